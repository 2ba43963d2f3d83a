/** SQL fragments that behave the same on SQLite and PostgreSQL. */
import { sql, type RawBuilder } from 'kysely';

/**
 * `column` contains `text`, ignoring case, with `%`, `_` and `\` in the text matched literally
 * (an explicit ESCAPE: SQLite has no default escape character).
 */
export function containsText(column: string, text: string): RawBuilder<boolean> {
  const pattern = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<boolean>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}
