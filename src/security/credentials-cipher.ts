/**
 * Encryption at rest of third-party credentials (storage access keys, SAS tokens, passwords):
 * AES-256-GCM under a key derived (HKDF) from the server secret for this purpose only.
 *
 * Format: `v1.<key id>.<base64url(iv | tag | ciphertext)>`. The key id is a short fingerprint of
 * the derived key, so a value sealed under another server secret is recognised and refused with a
 * clear message instead of a decryption error. The associated data binds a value to what it is
 * for (e.g. `import_storages`), so a ciphertext copied into another table does not open there.
 *
 * Rotating SECRET_KEY: values sealed under the old secret no longer open (the key id differs).
 * Before rotating, run with the old secret and note which storages have credentials; after
 * rotating, PATCH each storage with its credentials again (they are write-only, so they must be
 * re-entered from their source). docs/storages.md describes the procedure.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Secrets } from './secret-key.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a sealed value cannot be opened (another server secret, or tampered). */
export class CredentialsUnreadable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CredentialsUnreadable';
  }
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 8);
}

/** Seals a JSON value (credentials) for storage; `context` names what it belongs to. */
export function sealCredentials(secrets: Secrets, context: string, value: Record<string, string>): string {
  const key = secrets.key('storage-credentials');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return `${VERSION}.${keyId(key)}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
}

/** Opens a value sealed by sealCredentials with the same context; throws CredentialsUnreadable. */
export function openCredentials(secrets: Secrets, context: string, sealed: string): Record<string, string> {
  const [version, id, payload] = sealed.split('.');
  const key = secrets.key('storage-credentials');
  if (version !== VERSION || payload === undefined) throw new CredentialsUnreadable('Stored credentials are in an unknown format: enter them again.');
  if (id !== keyId(key)) throw new CredentialsUnreadable('Stored credentials were encrypted under another server secret (SECRET_KEY rotated): enter them again.');
  const raw = Buffer.from(payload, 'base64url');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as Record<string, string>;
  } catch {
    throw new CredentialsUnreadable('Stored credentials cannot be decrypted (altered?): enter them again.');
  }
}
