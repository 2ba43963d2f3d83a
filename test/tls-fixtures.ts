/**
 * Throwaway certificate authorities and certificates for TLS tests.
 *
 * Why this exists: the PostgreSQL, Redis, HTTPS and outbound-fetch tests need real certificates
 * (a CA the client trusts, a second unrelated CA, server certificates with or without the right
 * host name, client certificates). They are made with `openssl` in a temporary folder on every run;
 * no key is ever committed.
 *
 * Usage:
 *   const dir = await makeTempDir();
 *   const ca = await makeCa(dir);                                   // trusted CA
 *   const server = await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] });
 *   const client = await ca.issue('client', { client: true });
 *   const wrongHost = await ca.issue('wrong-host', { dns: ['not-this-host'] });
 *   const otherCa = await makeCa(dir, 'other-ca');                  // unrelated CA ("wrong CA")
 *   // ...
 *   await removeTempDir(dir);
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Paths (and PEM text) of an issued certificate and its private key. */
export interface IssuedCert {
  /** Path of the certificate (PEM). */
  certPath: string;
  /** Path of the private key (PEM, mode 0600). */
  keyPath: string;
  /** Certificate PEM text. */
  cert: string;
  /** Private key PEM text. */
  key: string;
}

/** Options for {@link TestCa.issue}. */
export interface IssueOptions {
  /** DNS names for subjectAltName (default: none). */
  dns?: readonly string[];
  /** IP addresses for subjectAltName (default: none). */
  ip?: readonly string[];
  /** Issue a client-authentication certificate instead of a server one. */
  client?: boolean;
  /** Subject common name (default: the certificate's name). */
  commonName?: string;
}

/** A throwaway certificate authority made by {@link makeCa}. */
export interface TestCa {
  /** Folder holding this CA's files. */
  dir: string;
  /** Path of the CA certificate (PEM) — what a client or server trusts. */
  certPath: string;
  /** Path of the CA private key. */
  keyPath: string;
  /** CA certificate PEM text. */
  cert: string;
  /**
   * Issues a certificate signed by this CA into `<dir>/<name>.crt` and `<dir>/<name>.key`.
   * Server certificates get serverAuth extended key usage, client ones clientAuth; both get the
   * given subjectAltName entries.
   */
  issue(name: string, options?: IssueOptions): Promise<IssuedCert>;
}

/** Creates a fresh temporary folder for certificates (remove it with {@link removeTempDir}). */
export async function makeTempDir(prefix = 'lv-tls-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a folder made by {@link makeTempDir}. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Runs openssl, turning a failure into an error that carries its stderr. */
async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr ?? e.message}`);
  }
}

/**
 * Makes a self-signed CA (EC P-256, valid one day) in `<dir>/<name>/` and returns its paths and an
 * `issue` function. Call it twice with different names for a "wrong CA" that is unrelated.
 */
export async function makeCa(dir: string, name = 'ca'): Promise<TestCa> {
  const caDir = join(dir, name);
  await mkdir(caDir, { recursive: true });
  const keyPath = join(caDir, 'ca.key');
  const certPath = join(caDir, 'ca.crt');
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyPath], caDir);
  await openssl(
    [
      'req', '-x509', '-new', '-key', keyPath, '-sha256', '-days', '1', '-out', certPath,
      '-subj', `/CN=Labelvault test CA ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE',
      '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    ],
    caDir,
  );
  await chmod(keyPath, 0o600);
  const cert = await readFile(certPath, 'utf8');
  let serial = 1;

  async function issue(certName: string, options: IssueOptions = {}): Promise<IssuedCert> {
    const base = join(caDir, certName);
    const leafKey = `${base}.key`;
    const csr = `${base}.csr`;
    const leafCert = `${base}.crt`;
    const ext = `${base}.ext`;
    const san = [
      ...(options.dns ?? []).map((d) => `DNS:${d}`),
      ...(options.ip ?? []).map((i) => `IP:${i}`),
    ];
    const lines = [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      `extendedKeyUsage=${options.client ? 'clientAuth' : 'serverAuth'}`,
      ...(san.length > 0 ? [`subjectAltName=${san.join(',')}`] : []),
    ];
    await writeFile(ext, `${lines.join('\n')}\n`);
    await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', leafKey], caDir);
    await chmod(leafKey, 0o600);
    await openssl(
      ['req', '-new', '-key', leafKey, '-out', csr, '-subj', `/CN=${options.commonName ?? certName}`],
      caDir,
    );
    await openssl(
      [
        'x509', '-req', '-in', csr, '-CA', certPath, '-CAkey', keyPath, '-set_serial', String(serial++),
        '-days', '1', '-sha256', '-extfile', ext, '-out', leafCert,
      ],
      caDir,
    );
    return {
      certPath: leafCert,
      keyPath: leafKey,
      cert: await readFile(leafCert, 'utf8'),
      key: await readFile(leafKey, 'utf8'),
    };
  }

  return { dir: caDir, certPath, keyPath, cert, issue };
}
