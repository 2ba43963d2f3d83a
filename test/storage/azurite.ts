/**
 * Starts Azurite's Blob service (npm `azurite`, Microsoft's Azure Storage emulator) on a loopback
 * port in a child process, for the Azure adapter's tests. Unlike s3rver, Azurite verifies shared
 * key and SAS signatures for real (tampered, expired, wrong permission → 403), so tests may use it
 * to prove that the URLs our server signs work and that altered ones are refused.
 * Started with --disableTelemetry and --skipApiVersionCheck (Node 20 gets Azurite 3.35).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { freePort } from '../harness.js';

/** Azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface Azurite {
  /** The account's Blob service URL (`http://127.0.0.1:<port>/devstoreaccount1`). */
  endpoint: string;
  client: BlobServiceClient;
  createContainer(name: string): Promise<void>;
  stop(): Promise<void>;
}


/** Starts Azurite's Blob service with its data in a temporary folder. */
export async function startAzurite(): Promise<Azurite> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-azurite-'));
  const port = await freePort();
  const bin = path.resolve('node_modules/azurite/dist/src/blob/main.js');
  const child = spawn(
    process.execPath,
    [bin, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', dir, '--silent', '--disableTelemetry', '--skipApiVersionCheck'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`azurite exited (${child.exitCode}): ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) break;
    if (i > 300) throw new Error(`azurite did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const endpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  const client = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
  return {
    endpoint,
    client,
    createContainer: async (name) => {
      await client.getContainerClient(name).createIfNotExists();
    },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
