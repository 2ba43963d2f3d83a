/**
 * Regenerates `.env.example` and the README's configuration table from the config schema, so
 * the documentation lists exactly the settings the server reads (config.test.ts checks it).
 * Run: npm run docs:env
 */
import fs from 'node:fs';
import { envSchema } from '../src/config/config.js';

const example = [
  '# Labelvault settings. Every variable is optional; the value shown is the default.',
  '# The server reads its environment only: export these, or start it with',
  '#   node --env-file=.env dist/main.js',
  '# Never commit a filled-in copy (it holds secrets).',
  '',
];
const rows: string[] = [];
for (const [name, schema] of Object.entries(envSchema.shape) as [string, { description?: string; safeParse: (v: unknown) => { success: boolean; data?: unknown } }][]) {
  const parsed = schema.safeParse(undefined);
  const def = parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
  const desc = schema.description ?? '';
  example.push(`# ${desc}`, `# ${name}=${def ?? ''}`, '');
  rows.push(`| \`${name}\` | ${def === undefined ? '(unset)' : `\`${def}\``} | ${desc.replace(/\|/g, '\\|')} |`);
}
fs.writeFileSync('.env.example', example.join('\n'));
const readme = fs.readFileSync('README.md', 'utf8');
const start = '<!-- config-table:start -->';
const end = '<!-- config-table:end -->';
const table = ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
const i = readme.indexOf(start);
const j = readme.indexOf(end);
if (i === -1 || j === -1) throw new Error('README.md lacks the config-table markers');
fs.writeFileSync('README.md', `${readme.slice(0, i + start.length)}\n${table}\n${readme.slice(j)}`);
process.stdout.write(`documented ${rows.length} settings\n`);
