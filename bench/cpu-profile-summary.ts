/**
 * Reads a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`) and prints where the server
 * spent its CPU: a timeline of busy time per second (to find the import and export phases), then
 * self time by area (package or src/ folder) and by function, optionally within a window.
 *
 *   npx tsx bench/cpu-profile-summary.ts FILE.cpuprofile [--from SECONDS] [--to SECONDS] [--top 30]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** The package or source folder a frame belongs to. */
function areaOf(url: string, name: string): string {
  if (name === '(garbage collector)') return '(garbage collector)';
  if (IDLE.has(name)) return name;
  if (url === '') return `(native) ${name}`;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const src = /\/(src\/(?:modules\/)?[^/]+)/.exec(url);
  if (src) return src[1]!;
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url.replace(/^file:\/\//, '');
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function top(map: Map<string, number>, total: number, n: number): string[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
}

function main(): void {
  process.stdout.on('error', () => process.exit(0)); // e.g. piped into head
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { from: { type: 'string' }, to: { type: 'string' }, top: { type: 'string' } } });
  const file = positionals[0];
  if (!file) throw new Error('usage: cpu-profile-summary FILE.cpuprofile [--from S] [--to S] [--top N]');
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const from = Number(values.from ?? 0) * 1e6;
  const to = values.to === undefined ? Infinity : Number(values.to) * 1e6;
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  const busyPerSecond: number[] = [];
  let t = 0;
  let total = 0;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's weight is the gap to the next one
    t += profile.timeDeltas[i] ?? 0;
    const frame = byId.get(profile.samples[i]!)!.callFrame;
    if (!IDLE.has(frame.functionName)) busyPerSecond[Math.floor(t / 1e6)] = (busyPerSecond[Math.floor(t / 1e6)] ?? 0) + us;
    if (t < from || t >= to || IDLE.has(frame.functionName)) continue;
    total += us;
    add(areas, areaOf(frame.url, frame.functionName), us);
    const where = frame.url ? `${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${frame.lineNumber + 1}` : '';
    add(functions, `${frame.functionName || '(anonymous)'} ${where}`, us);
  }
  console.log(`busy ms per second of the profile: ${Array.from(busyPerSecond, (us, s) => `${s}:${Math.round((us ?? 0) / 1000)}`).join(' ')}`);
  console.log(`\nwindow ${from / 1e6}s..${to === Infinity ? 'end' : `${to / 1e6}s`}: ${(total / 1000).toFixed(0)} ms busy\n\nby area:`);
  for (const line of top(areas, total, Number(values.top ?? 30))) console.log(line);
  console.log('\nby function (self time):');
  for (const line of top(functions, total, Number(values.top ?? 30))) console.log(line);
}

main();
