/** The role table of the README and docs/security.md, generated from the permission table (never written by hand). */
import { GRANTS, PERMISSION_DESCRIPTIONS, PERMISSIONS, ROLE_NAMES, SUPERUSER_GRANTS } from './permissions.js';

const ROLES_SHOWN = ['AN', 'RE', 'MA', 'AD', 'OW'] as const;

/** Whether a role (or the superuser) holds a permission, as the tables show it. */
export function holds(role: (typeof ROLES_SHOWN)[number] | 'superuser', p: string): boolean {
  if (role === 'superuser') return (SUPERUSER_GRANTS as readonly string[]).includes(p);
  return (GRANTS[role] as readonly string[]).includes(p);
}

/** A Markdown table: one row per permission with what it allows, one column per active role and the superuser. */
export function roleTable(): string {
  const head = `| Permission | What it allows | ${ROLES_SHOWN.map((r) => ROLE_NAMES[r]).join(' | ')} | Superuser |`;
  const lines = PERMISSIONS.map((p) => {
    const marks = [...ROLES_SHOWN, 'superuser' as const].map((r) => (holds(r, p) ? '✔' : '–'));
    return `| \`${p}\` | ${PERMISSION_DESCRIPTIONS[p].replace(/\|/g, '\\|')} | ${marks.join(' | ')} |`;
  });
  return [head, `| --- | --- |${[...ROLES_SHOWN, 's'].map(() => ' --- |').join('')}`, ...lines].join('\n');
}
