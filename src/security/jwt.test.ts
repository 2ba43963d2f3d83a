import { describe, expect, it } from 'vitest';
import { signJwt, verifyJwt, type JwtClaims } from './jwt.js';

const key = Buffer.alloc(32, 7);
const claims = (over: Partial<JwtClaims> = {}): JwtClaims => ({ token_type: 'refresh', jti: 'j1', user_id: 3, iat: 1, exp: Math.floor(Date.now() / 1000) + 60, ...over });

describe('jwt', () => {
  it('round-trips signed claims', () => {
    const { token } = signJwt(key, claims());
    expect(verifyJwt(key, token)).toMatchObject({ jti: 'j1', user_id: 3, token_type: 'refresh' });
  });

  it('refuses a wrong key, a tampered payload, an expired token and alg=none', () => {
    const { token } = signJwt(key, claims());
    expect(verifyJwt(Buffer.alloc(32, 8), token)).toBeNull();
    const [h, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify(claims({ user_id: 1 }))).toString('base64url');
    expect(verifyJwt(key, `${h}.${forged}.${sig}`)).toBeNull();
    expect(verifyJwt(key, signJwt(key, claims({ exp: 10 })).token)).toBeNull();
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify(claims())).toString('base64url');
    expect(verifyJwt(key, `${none}.${payload}.`)).toBeNull();
    expect(verifyJwt(key, 'not-a-jwt')).toBeNull();
  });
});
