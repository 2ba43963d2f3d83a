/**
 * `labelvault doctor`, run for real as a CLI process: `--strict` fails on the embedded default
 * exposed on 0.0.0.0 without TLS, passes on a hardened configuration (TLS files from a throwaway
 * CA), and flags open signup, weak database TLS, a bootstrap password still in use and loose file
 * permissions, each with its fix.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envSchema } from '../../src/config/config.js';
import { hashPassword } from '../../src/security/passwords.js';
import { loadOrCreateSecretKey } from '../../src/security/secret-key.js';
import { startServer, type TestServer } from '../harness.js';
import { makeCa, makeTempDir, removeTempDir, type IssuedCert } from '../tls-fixtures.js';

const run = promisify(execFile);

/** The parent's environment without any Labelvault setting (vitest sets NODE_ENV=test). */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !(k in envSchema.shape)));

async function doctor(env: Record<string, string>, strict = true): Promise<{ code: number; out: string }> {
  const args = ['--import', 'tsx', 'src/cli/main.ts', 'doctor', ...(strict ? ['--strict'] : [])];
  try {
    const { stdout } = await run(process.execPath, args, { env: { ...cleanEnv(), ...env } });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

let certDir: string;
let cert: IssuedCert;
let dataDir: string;
let hardened: Record<string, string>;

beforeAll(async () => {
  certDir = await makeTempDir();
  const ca = await makeCa(certDir);
  cert = await ca.issue('server', { dns: ['localhost', 'label.example.test'], ip: ['127.0.0.1'] });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-doctor-'));
  hardened = {
    LABELVAULT_DATA_DIR: dataDir,
    HOST: '0.0.0.0',
    TLS_CERT_FILE: cert.certPath,
    TLS_KEY_FILE: cert.keyPath,
    HTTP_REDIRECT_PORT: '8081',
    SESSION_COOKIE_SECURE: 'true',
    SSRF_PROTECTION_ENABLED: 'true',
    LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: 'true',
    LOG_LEVEL: 'silent',
  };
});
afterAll(async () => {
  await removeTempDir(certDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('labelvault doctor', () => {
  it('--strict fails on the embedded default exposed on 0.0.0.0 without TLS, naming the fixes', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-doctor-'));
    try {
      const r = await doctor({ LABELVAULT_DATA_DIR: fresh, HOST: '0.0.0.0' });
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/WARN\s+https\s+HOST=0\.0\.0\.0 exposes plain HTTP/);
      expect(r.out).toMatch(/fix: set TLS_CERT_FILE and TLS_KEY_FILE/);
      expect(r.out).toMatch(/WARN\s+cookies/);
      // Reporting changes nothing: no key, no database was created.
      expect(fs.readdirSync(fresh)).toEqual([]);
      // Without --strict the same report exits 0.
      expect((await doctor({ LABELVAULT_DATA_DIR: fresh, HOST: '0.0.0.0' }, false)).code).toBe(0);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  }, 30_000);

  it('--strict passes on a hardened configuration (TLS from a throwaway CA on 0.0.0.0, signup closed, SSRF on)', async () => {
    const r = await doctor(hardened);
    expect(r.out).toContain('No warnings.');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/(ok|info)\s+https\s+served by the process with HSTS/); // the test certificate lives one day: "expires soon" is a note
    expect(r.out).toMatch(/ok\s+ssrf/);
    expect(r.out).toMatch(/ok\s+signup/);
  }, 30_000);

  it('flags open signup, SSRF off, unverified PostgreSQL TLS, plain Redis and plain-HTTP CORS origins', async () => {
    const r = await doctor({
      ...hardened,
      LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK: 'false',
      SSRF_PROTECTION_ENABLED: 'false',
      DATABASE_URL: 'postgres://lv:pw@db.example.test:5432/lv?sslmode=require',
      POSTGRE_ALLOW_INSECURE_TRANSPORT: 'true',
      REDIS_URL: 'redis://cache.example.test:6379',
      CORS_ALLOWED_ORIGINS: 'http://app.example.test',
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/WARN\s+signup[\s\S]*fix: set LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true/);
    expect(r.out).toMatch(/WARN\s+ssrf[\s\S]*fix: set SSRF_PROTECTION_ENABLED=true/);
    expect(r.out).toMatch(/WARN\s+database\s+PostgreSQL at db\.example\.test uses sslmode=require[\s\S]*fix: use sslmode=verify-full/);
    expect(r.out).toMatch(/WARN\s+redis\s+Redis at cache\.example\.test without TLS/);
    expect(r.out).toMatch(/WARN\s+cors/);
  }, 30_000);
});

describe('labelvault doctor on a running instance', () => {
  let s: TestServer;
  const password = 'a bootstrap password 1234';
  beforeAll(async () => {
    s = await startServer('sqlite', { LABEL_STUDIO_USERNAME: 'boot@example.test', LABEL_STUDIO_PASSWORD: password });
  });
  afterAll(async () => s?.close());

  const envOf = () => ({ ...hardened, LABELVAULT_DATA_DIR: s.dataDir, LABEL_STUDIO_USERNAME: 'boot@example.test', LABEL_STUDIO_PASSWORD: password, PASSWORD_HASH_COST: '14' });

  it('warns while LABEL_STUDIO_PASSWORD still logs in, and not once the password was changed', async () => {
    const before = await doctor(envOf());
    expect(before.code).toBe(1);
    expect(before.out).toMatch(/WARN\s+credentials\s+LABEL_STUDIO_PASSWORD still logs in as boot@example\.test/);
    await s.deps.db.updateTable('users').set({ password_hash: await hashPassword('another long passphrase', 14) }).where('email', '=', 'boot@example.test').execute();
    const after = await doctor(envOf());
    expect(after.out).toMatch(/ok\s+credentials/);
    expect(after.code).toBe(0);
  }, 30_000);

  it('warns about a secret key file or data folder others can read, with the chmod that fixes it', async () => {
    const keyFile = path.join(s.dataDir, 'secret_key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600); // generated owner-only at first start
    expect(fs.statSync(s.dataDir).mode & 0o777).toBe(0o700);
    fs.chmodSync(keyFile, 0o644);
    fs.chmodSync(s.dataDir, 0o755);
    try {
      const r = await doctor({ ...envOf(), LABEL_STUDIO_PASSWORD: 'not the password anymore' });
      expect(r.code).toBe(1);
      expect(r.out).toContain(`fix: chmod 600 ${keyFile}`);
      expect(r.out).toContain(`fix: chmod 700 ${s.dataDir}`);
    } finally {
      fs.chmodSync(keyFile, 0o600);
      fs.chmodSync(s.dataDir, 0o700);
    }
  }, 30_000);
});

describe('the server secret (what doctor checks)', () => {
  it('is generated once into the data folder, owner-only, and refused once others can read it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-secret-'));
    try {
      const data = path.join(dir, 'data');
      const key = loadOrCreateSecretKey(undefined, data);
      expect(key.length).toBeGreaterThanOrEqual(32);
      expect(fs.statSync(path.join(data, 'secret_key')).mode & 0o777).toBe(0o600);
      expect(fs.statSync(data).mode & 0o777).toBe(0o700);
      expect(loadOrCreateSecretKey(undefined, data)).toBe(key); // kept, not regenerated
      fs.chmodSync(path.join(data, 'secret_key'), 0o640);
      expect(() => loadOrCreateSecretKey(undefined, data)).toThrow(/readable by other users: chmod 600/);
      const configured = 'k'.repeat(40);
      const other = path.join(dir, 'other');
      expect(loadOrCreateSecretKey(configured, other)).toBe(configured);
      expect(fs.existsSync(other)).toBe(false); // SECRET_KEY set: no file written
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
