/**
 * The server secret and the keys derived from it. No built-in default: SECRET_KEY, or a key
 * generated on first start and kept in the data folder with owner-only permissions.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type KeyPurpose = 'api-token' | 'api-token-lookup' | 'invite' | 'invite-lookup' | 'session' | 'csrf' | 'jwt' | 'audit' | 'setup' | 'storage-credentials';

/** Keys for each purpose, derived once (HKDF-SHA256) so one leaked derived key exposes nothing else. */
export class Secrets {
  private readonly keys = new Map<KeyPurpose, Buffer>();

  constructor(private readonly master: string) {}

  key(purpose: KeyPurpose): Buffer {
    let k = this.keys.get(purpose);
    if (!k) {
      k = Buffer.from(hkdfSync('sha256', this.master, 'labelvault', purpose, 32));
      this.keys.set(purpose, k);
    }
    return k;
  }

  /** HMAC-SHA256 of the parts (joined unambiguously), base64url. */
  mac(purpose: KeyPurpose, ...parts: (string | number)[]): string {
    const h = createHmac('sha256', this.key(purpose));
    for (const p of parts) {
      const s = String(p);
      h.update(`${s.length}:${s};`);
    }
    return h.digest('base64url');
  }
}

/** Compares two strings in constant time (for equal lengths). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** A random URL-safe token of the given number of bytes. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Returns SECRET_KEY when set; otherwise reads `<dataDir>/secret_key`, generating it (0600) on
 * first start. Refuses a key file readable by others.
 */
export function loadOrCreateSecretKey(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'secret_key');
  try {
    const fd = fs.openSync(file, 'wx', 0o600);
    fs.writeSync(fd, randomBytes(48).toString('base64url'));
    fs.closeSync(fd);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const mode = fs.statSync(file).mode & 0o077;
  if (mode !== 0) throw new Error(`${file} is readable by other users: chmod 600 it`);
  const key = fs.readFileSync(file, 'utf8').trim();
  if (key.length < 32) throw new Error(`${file} holds a key shorter than 32 characters`);
  return key;
}
