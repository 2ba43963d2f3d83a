/** The role table of docs/security.md, generated from the permission table (never written by hand). */
import { GRANTS, PERMISSIONS, ROLE_NAMES } from './permissions.js';

/** A Markdown table: one row per permission, one column per active role. */
export function roleTable(): string {
  const roles = ['AN', 'RE', 'MA', 'AD', 'OW'] as const;
  const head = `| Permission | ${roles.map((r) => ROLE_NAMES[r]).join(' | ')} |`;
  const lines = PERMISSIONS.map((p) => `| \`${p}\` | ${roles.map((r) => ((GRANTS[r] as readonly string[]).includes(p) ? '✔' : '–')).join(' | ')} |`);
  return [head, `| --- |${roles.map(() => ' --- |').join('')}`, ...lines].join('\n');
}
