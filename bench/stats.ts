/** Small helpers the benchmarks share: command-line options, medians and CPU time read from /proc. */
import fs from 'node:fs';

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** The median (the mean of the two middle values for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU milliseconds used so far by the given processes together (those gone since count 0). */
export function procCpuMs(pids: number[]): number {
  let seconds = 0;
  for (const pid of pids) {
    try {
      seconds += cpuSecondsOf(pid);
    } catch {
      /* the process went away */
    }
  }
  return seconds * 1000;
}

/** The value after `--name` on the command line, or `def`. */
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1]!;
}

/** A whole-number option (underscores allowed: 100_000); throws naming the option otherwise. */
export function wholeNumber(raw: string | undefined, fallback: number, name: string): number {
  const n = Number((raw ?? String(fallback)).replaceAll('_', ''));
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${raw}`);
  return n;
}
