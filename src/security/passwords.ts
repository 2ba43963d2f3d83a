/**
 * Password policy and hashing. Hashes are scrypt (`scrypt$<logN>$<r>$<p>$<salt>$<hash>`);
 * Django `pbkdf2_sha256$…` hashes from Label Studio are accepted at login and then replaced.
 */
import { pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { dictionary } from '@zxcvbn-ts/language-common';

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const pbkdf2Async = promisify(pbkdf2);

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

let common: Set<string> | undefined;
/** The common-password list (zxcvbn-ts' list of about 49,000 leaked passwords), lower-cased. */
export function commonPasswords(): Set<string> {
  common ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return common;
}

/** Checks a new password; returns the problems (empty when acceptable). */
export function passwordProblems(password: string, identity: { email?: string; username?: string }): string[] {
  const problems: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) problems.push(`Password must be at least ${PASSWORD_MIN_LENGTH} characters.`);
  if (password.length > PASSWORD_MAX_LENGTH) problems.push(`Password must be at most ${PASSWORD_MAX_LENGTH} characters.`);
  const lower = password.toLowerCase();
  const email = identity.email?.toLowerCase();
  if ((email && (lower === email || lower === email.split('@')[0])) || (identity.username && lower === identity.username.toLowerCase())) {
    problems.push('Password must not be your email or username.');
  }
  if (commonPasswords().has(lower)) problems.push('Password is too common.');
  return problems;
}

const R = 8;
const P = 1;

/** Hashes a password with scrypt at cost 2^logN. */
export async function hashPassword(password: string, logN: number): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, 32, { N: 2 ** logN, r: R, p: P, maxmem: 256 * 2 ** logN * R + 1024 * 1024 });
  return `scrypt$${logN}$${R}$${P}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export interface VerifyResult {
  ok: boolean;
  /** True when the hash should be replaced (Django format, or weaker than the current cost). */
  needsRehash: boolean;
}

/** Verifies a password against a stored hash of either supported format. */
export async function verifyPassword(password: string, stored: string, logN: number): Promise<VerifyResult> {
  const parts = stored.split('$');
  if (parts[0] === 'scrypt' && parts.length === 6) {
    const [, n, r, p, salt, hash] = parts as [string, string, string, string, string, string];
    const expected = Buffer.from(hash, 'base64');
    const N = 2 ** Number(n);
    const actual = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, {
      N,
      r: Number(r),
      p: Number(p),
      maxmem: 256 * N * Number(r) + 1024 * 1024,
    });
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
    return { ok, needsRehash: ok && Number(n) < logN };
  }
  if (parts[0] === 'pbkdf2_sha256' && parts.length === 4) {
    const [, iterations, salt, hash] = parts as [string, string, string, string];
    const expected = Buffer.from(hash, 'base64');
    const iters = Number(iterations);
    if (!Number.isInteger(iters) || iters < 1 || iters > 10_000_000) return { ok: false, needsRehash: false };
    const actual = await pbkdf2Async(password, salt, iters, expected.length, 'sha256');
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
    return { ok, needsRehash: ok };
  }
  return { ok: false, needsRehash: false };
}

let dummy: Promise<string> | undefined;
/**
 * Spends the same time as a real verification, for logins of unknown accounts, so response
 * time does not reveal whether an email is registered.
 */
export async function burnPasswordCheck(password: string, logN: number): Promise<void> {
  dummy ??= hashPassword('labelvault-timing-equaliser', logN);
  await verifyPassword(password, await dummy, logN);
}
