/**
 * Minimal HS256 JSON Web Tokens for personal access tokens (refresh) and the short-lived access
 * tokens exchanged for them, in the shape Label Studio's SDK expects (`token_type`, `jti`,
 * `user_id`, `exp`, `iat`). Only HS256 is accepted: the `alg` header is checked, never trusted.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  token_type: 'refresh' | 'access';
  jti: string;
  user_id: number;
  iat: number;
  exp: number;
  /** On access tokens: the jti of the personal access token they were issued from. */
  pat?: string;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');

function sign(key: Buffer, input: string): string {
  return createHmac('sha256', key).update(input).digest('base64url');
}

/** Signs claims; returns the token and its unsigned part (header.payload). */
export function signJwt(key: Buffer, claims: JwtClaims): { token: string; unsigned: string } {
  const unsigned = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { token: `${unsigned}.${sign(key, unsigned)}`, unsigned };
}

/** True when the string has the three-part shape of a JWT (used to tell PATs from legacy tokens). */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

/** Verifies signature, algorithm and expiry; returns the claims or null. */
export function verifyJwt(key: Buffer, token: string, now = Date.now()): JwtClaims | null {
  if (!looksLikeJwt(token) || token.length > 4096) return null;
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const expected = Buffer.from(sign(key, `${header}.${payload}`));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const h = JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown };
    if (h.alg !== 'HS256') return null;
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Partial<JwtClaims>;
    if ((c.token_type !== 'refresh' && c.token_type !== 'access') || typeof c.jti !== 'string') return null;
    if (typeof c.user_id !== 'number' || typeof c.exp !== 'number' || typeof c.iat !== 'number') return null;
    if (c.exp * 1000 <= now) return null;
    return c as JwtClaims;
  } catch {
    return null;
  }
}
