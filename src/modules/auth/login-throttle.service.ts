/**
 * Failed-login throttling, per account (the email typed, whether it exists or not) and per IP,
 * kept in the database so every app node sees the same counts. An attempt is counted *before*
 * the password is checked, so parallel guesses cannot all slip under the limit; a successful
 * login takes its own attempt back and clears the account's count.
 */
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';

export interface Attempt {
  accountKey: string;
  ipRowId: number;
}

const throttled = (windowMs: number) =>
  new AppError(429, 'LOGIN_THROTTLED', 'Too many failed attempts. Try again later.', undefined, { 'retry-after': String(Math.ceil(windowMs / 1000)) });

/**
 * Counts one attempt for `account` (e.g. `email:a@b.c` or `user:7`) and the IP, then throws 429
 * (with Retry-After) when either is over its limit, this attempt included.
 */
export async function beginAttempt(deps: AppDeps, account: string, ip: string): Promise<Attempt> {
  const { windowMs, maxFailuresPerAccount, maxFailuresPerIp } = deps.config.login;
  const now = new Date();
  const ipKey = `ip:${ip}`;
  await deps.db.insertInto('login_failures').values({ key: account, at: now.toISOString() }).execute();
  const ipRow = await deps.db.insertInto('login_failures').values({ key: ipKey, at: now.toISOString() }).returning('id').executeTakeFirstOrThrow();
  const since = new Date(now.getTime() - windowMs).toISOString();
  // The table only ever holds the current window: pruning it is cheap.
  await deps.db.deleteFrom('login_failures').where('at', '<=', since).execute();
  const rows = await deps.db
    .selectFrom('login_failures')
    .select(['key', (eb) => eb.fn.countAll<number>().as('n')])
    .where('key', 'in', [account, ipKey])
    .where('at', '>', since)
    .groupBy('key')
    .execute();
  const count = (key: string) => Number(rows.find((r) => r.key === key)?.n ?? 0);
  if (count(account) > maxFailuresPerAccount || count(ipKey) > maxFailuresPerIp) throw throttled(windowMs);
  return { accountKey: account, ipRowId: ipRow.id };
}

/** After a success: the account's count starts again and this attempt no longer counts for the IP. */
export async function attemptSucceeded(deps: AppDeps, attempt: Attempt): Promise<void> {
  await deps.db.deleteFrom('login_failures').where('key', '=', attempt.accountKey).execute();
  await deps.db.deleteFrom('login_failures').where('id', '=', attempt.ipRowId).execute();
}

/** Whether an error is beginAttempt's refusal (429). */
export const isThrottled = (err: unknown): boolean => err instanceof AppError && err.code === 'LOGIN_THROTTLED';

/**
 * Decides whether a throttled (refused) attempt on `account` is recorded: only the first refusal
 * of a throttle window is; later ones are only counted (each attempt's row in this table). The
 * decision is kept in the same table (a `reported:<account>` row), so every node agrees; two nodes
 * racing on the first refusal both insert one and the earliest row wins. Returns, for the refusal
 * to record, the account's attempts in the window (this one included); null for the others. Under a
 * steady flood, each window's event thus counts the refusals the previous window did not record.
 */
export async function claimThrottledReport(deps: AppDeps, account: string): Promise<number | null> {
  const now = new Date();
  const since = new Date(now.getTime() - deps.config.login.windowMs).toISOString();
  const key = `reported:${account}`;
  const firstReport = () => deps.db.selectFrom('login_failures').select('id').where('key', '=', key).where('at', '>', since).orderBy('id').limit(1).executeTakeFirst();
  if (await firstReport()) return null;
  const mine = await deps.db.insertInto('login_failures').values({ key, at: now.toISOString() }).returning('id').executeTakeFirstOrThrow();
  if ((await firstReport())?.id !== mine.id) return null;
  const row = await deps.db
    .selectFrom('login_failures')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('key', '=', account)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The throttle key of an email typed at login. */
export const emailAccount = (email: string) => `email:${email.trim().toLowerCase()}`;
/** The throttle key of a user (current-password checks). */
export const userAccount = (userId: number) => `user:${userId}`;
