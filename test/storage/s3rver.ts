/**
 * Starts s3rver (npm, an S3 emulator) on a loopback port in a child process, for tests of the S3
 * adapter and of storage sync. It runs with --openssl-legacy-provider (on Node 20 its listings
 * fail without it) and does NOT verify signatures: tests use it to prove what our server lists,
 * reads, writes and which URL it signs, never that a signature is checked.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../harness.js';

export interface S3rver {
  endpoint: string;
  port: number;
  /** The child process's id. */
  pid: number;
  /** The folder s3rver keeps its buckets in (`<dir>/<bucket>/<key>._S3rver_object` and siblings). */
  dir: string;
  /** s3rver's fixed credentials. */
  accessKeyId: string;
  secretAccessKey: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  stop(): Promise<void>;
}


async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('s3rver did not start');
}

/** Starts an s3rver with an empty data folder. */
export async function startS3rver(): Promise<S3rver> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labelvault-s3rver-'));
  const port = await freePort();
  const bin = path.resolve('node_modules/s3rver/bin/s3rver.js');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', bin, '-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent', '--no-vhost-buckets'], { stdio: 'ignore' });
  await waitForPort(port, child);
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  return {
    endpoint,
    port,
    pid: child.pid!,
    dir,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    stop: async () => {
      client.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
