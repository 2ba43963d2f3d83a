/**
 * Regenerates the generated parts of the docs: `.env.example` and the README's configuration
 * table from the config schema, and the role table in the README and docs/security.md from the permission table
 * (tests check both stay in step). Run: npm run docs
 */
import fs from 'node:fs';
import { PERMISSIONS } from '../src/authz/permissions.js';
import { roleTable } from '../src/authz/role-table.js';
import { envSchema } from '../src/config/config.js';

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in a file. */
function replaceBetween(file: string, name: string, body: string): void {
  const text = fs.readFileSync(file, 'utf8');
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  if (i === -1 || j === -1) throw new Error(`${file} lacks the ${name} markers`);
  fs.writeFileSync(file, `${text.slice(0, i + start.length)}\n${body}\n${text.slice(j)}`);
}

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
replaceBetween('README.md', 'config-table', ['| Variable | Default | Meaning |', '| --- | --- | --- |', ...rows].join('\n'));

replaceBetween('docs/security.md', 'role-table', roleTable());
replaceBetween('README.md', 'role-table', roleTable());
process.stdout.write(`documented ${rows.length} settings and ${PERMISSIONS.length} permissions\n`);
