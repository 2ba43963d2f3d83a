/**
 * Failed-login throttling, per account (the email typed, whether it exists or not) and per IP,
 * kept in the database so every app node sees the same counts.
 */
import type { AppDeps } from '../../app-deps.js';
import { AppError } from '../../http/errors.js';

const keys = (email: string, ip: string) => ({ account: `email:${email.trim().toLowerCase()}`, ip: `ip:${ip}` });

/** Throws 429 (with Retry-After) when either the account or the IP is over its limit. */
export async function assertLoginAllowed(deps: AppDeps, email: string, ip: string): Promise<void> {
  const { windowMs, maxFailuresPerAccount, maxFailuresPerIp } = deps.config.login;
  const since = new Date(Date.now() - windowMs).toISOString();
  const k = keys(email, ip);
  const rows = await deps.db
    .selectFrom('login_failures')
    .select(['key', (eb) => eb.fn.countAll<number>().as('n')])
    .where('key', 'in', [k.account, k.ip])
    .where('at', '>', since)
    .groupBy('key')
    .execute();
  const count = (key: string) => Number(rows.find((r) => r.key === key)?.n ?? 0);
  if (count(k.account) >= maxFailuresPerAccount || count(k.ip) >= maxFailuresPerIp) {
    throw new AppError(429, 'LOGIN_THROTTLED', 'Too many failed login attempts. Try again later.', undefined, {
      'retry-after': String(Math.ceil(windowMs / 1000)),
    });
  }
}

/** Counts one failed attempt against the account and the IP; prunes entries older than the window. */
export async function recordLoginFailure(deps: AppDeps, email: string, ip: string): Promise<void> {
  const k = keys(email, ip);
  const at = new Date().toISOString();
  await deps.db.insertInto('login_failures').values([{ key: k.account, at }, { key: k.ip, at }]).execute();
  const cutoff = new Date(Date.now() - deps.config.login.windowMs).toISOString();
  await deps.db.deleteFrom('login_failures').where('at', '<', cutoff).execute();
}

/** After a successful login the account's counter starts again (the IP's does not). */
export async function clearAccountFailures(deps: AppDeps, email: string): Promise<void> {
  await deps.db.deleteFrom('login_failures').where('key', '=', keys(email, '').account).execute();
}
