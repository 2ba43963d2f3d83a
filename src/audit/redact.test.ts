/** `redact`: everything under a secret-named key is masked, keeping the shape that says a field changed. */
import { describe, expect, it } from 'vitest';
import { redact } from './recorder.js';

describe('redact', () => {
  it('masks both sides of a secret field’s before/after, keeping the shape', () => {
    expect(redact({ password: { before: 'a', after: 'b' } })).toEqual({ password: { before: '***', after: '***' } });
  });

  it('masks a whole subtree under a secret-named key, at any depth and in arrays', () => {
    const out = redact({
      storage: { title: { before: 'x', after: 'y' }, credentials: { before: { key: 'AKIA', nested: { secret: 's', n: 3 } }, after: null } },
      list: [{ api_token: ['t1', 't2'] }],
    });
    expect(out).toEqual({
      storage: { title: { before: 'x', after: 'y' }, credentials: { before: { key: '***', nested: { secret: '***', n: '***' } }, after: null } },
      list: [{ api_token: ['***', '***'] }],
    });
    expect(JSON.stringify(out)).not.toMatch(/AKIA|"s"|t1|t2/);
  });

  it('masks scalars under secret keys and leaves other fields and null secrets alone', () => {
    expect(redact({ session: 'abc', authorization: 'Token x', title: 'ok', count: 2, cookie: null })).toEqual({ session: '***', authorization: '***', title: 'ok', count: 2, cookie: null });
    expect(redact('plain')).toBe('plain');
    expect(redact([1, { secret_key: 7 }])).toEqual([1, { secret_key: '***' }]);
  });

  it('keeps which secret fields changed (a status word and a list of names), never their values', () => {
    expect(redact({ credentials: { status: 'changed', fields: ['aws_access_key_id', 'aws_session_token'] } })).toEqual({ credentials: { status: 'changed', fields: ['aws_access_key_id', 'aws_session_token'] } });
    expect(redact({ credentials: { status: 'AKIA 123', fields: ['AKIAIOSFODNN7EXAMPLE', 'x y'] } })).toEqual({ credentials: { status: '***', fields: ['***', '***'] } });
  });
});
