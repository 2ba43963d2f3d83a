import { describe, expect, it } from 'vitest';
import { commonPasswords, hashPassword, passwordProblems, verifyPassword } from './passwords.js';

describe('password policy', () => {
  it('ships at least 10,000 common passwords', () => {
    expect(commonPasswords().size).toBeGreaterThan(10_000);
  });

  it('refuses short, long, common and identity passwords', () => {
    expect(passwordProblems('Abc-123', {})).toEqual([expect.stringMatching(/at least 8/)]);
    expect(passwordProblems('a'.repeat(129), {}).join()).toMatch(/at most 128/);
    expect(passwordProblems('Password1', {}).join()).toMatch(/too common/);
    expect(passwordProblems('ALICE@example.com', { email: 'alice@example.com' }).join()).toMatch(/email or username/);
    expect(passwordProblems('alice_wonder', { username: 'Alice_Wonder' }).join()).toMatch(/email or username/);
    expect(passwordProblems('Sturdy-Passphrase-1', { email: 'alice@example.com' })).toEqual([]);
  });
});

describe('password hashing', () => {
  it('hashes with scrypt, salted, and verifies', async () => {
    const a = await hashPassword('Sturdy-Passphrase-1', 14);
    const b = await hashPassword('Sturdy-Passphrase-1', 14);
    expect(a).toMatch(/^scrypt\$14\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('Sturdy-Passphrase-1', a, 14)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword('sturdy-passphrase-1', a, 14)).ok).toBe(false);
    expect(await verifyPassword('Sturdy-Passphrase-1', a, 15)).toEqual({ ok: true, needsRehash: true });
  });

  it("verifies Django's pbkdf2_sha256 (vector made with Python's hashlib) and asks for a rehash", async () => {
    const django = 'pbkdf2_sha256$260000$q8Zr2LxPfw1Kd$VJlHMp4bNdFlzCYU61pUJGF61reJI3E4YF+ml9hJXZA=';
    expect(await verifyPassword('Migrated-from-LS-2024', django, 14)).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword('Migrated-from-LS-2025', django, 14)).ok).toBe(false);
  });

  it('rejects unknown formats and absurd iteration counts without throwing', async () => {
    expect((await verifyPassword('x', 'md5$abc$def', 14)).ok).toBe(false);
    expect((await verifyPassword('x', 'pbkdf2_sha256$999999999$s$aGFzaA==', 14)).ok).toBe(false);
    expect((await verifyPassword('x', '', 14)).ok).toBe(false);
  });
});
