/**
 * Objects for the storage sync benchmark in an s3rver bucket, and the plain listing it is measured
 * against.
 *
 * Filling: through the S3 API (PutObject, 32 at a time), or straight into s3rver's folder in the
 * layout s3rver itself writes. The layout is not assumed: one object is first PUT through the API,
 * the files s3rver made for it are read back (`<name>._S3rver_object`, `.._object.md5`,
 * `.._metadata.json`), and every other object gets the same three files (its own bytes and MD5,
 * the same metadata). Keys are spread over folders of 1,000 (`<prefix><folder>/<n>.<ext>`), as
 * s3rver walks its folder on every ListObjectsV2 call and skips whole folders before the
 * continuation point: one flat folder of 100,000 objects would make s3rver's listing quadratic
 * and flatter the sync.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** A bucket's worth of benchmark objects: key and body of object i. */
export interface ObjectSet {
  bucket: string;
  prefix: string;
  count: number;
  key(i: number): string;
  body(i: number): string;
}

/** `<prefix><i / 1000, 3 digits>/<i, 6 digits>.<ext>` */
export function objectSet(bucket: string, prefix: string, ext: string, count: number, body: (i: number, key: string) => string): ObjectSet {
  const key = (i: number) => `${prefix}${String(Math.floor(i / 1000)).padStart(3, '0')}/${String(i).padStart(6, '0')}.${ext}`;
  return { bucket, prefix, count, key, body: (i) => body(i, key(i)) };
}

/** PUTs every object through the S3 API, `concurrency` requests at a time. */
export async function fillThroughApi(client: S3Client, set: ObjectSet, concurrency = 32): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < set.count) {
      const i = next++;
      await client.send(new PutObjectCommand({ Bucket: set.bucket, Key: set.key(i), Body: set.body(i) }));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

const OBJECT = '._S3rver_object';
const MD5 = '._S3rver_object.md5';
const METADATA = '._S3rver_metadata.json';

/**
 * Writes objects 1..count-1 into s3rver's folder `dir` as s3rver stores them, after PUTting object
 * 0 through the API and checking that s3rver wrote exactly the three files expected for it.
 */
export async function fillOnDisk(client: S3Client, dir: string, set: ObjectSet): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: set.bucket, Key: set.key(0), Body: set.body(0) }));
  const first = path.join(dir, set.bucket, set.key(0));
  const name = path.basename(first);
  const made = fs.readdirSync(path.dirname(first)).sort();
  const expected = [`${name}${METADATA}`, `${name}${OBJECT}`, `${name}${MD5}`].sort();
  if (JSON.stringify(made) !== JSON.stringify(expected)) {
    throw new Error(`s3rver's on-disk layout is not the expected one (${made.join(', ')}): fill with --fill api`);
  }
  const md5 = (s: string) => createHash('md5').update(s).digest('hex');
  if (fs.readFileSync(`${first}${MD5}`, 'utf8') !== md5(set.body(0))) throw new Error('s3rver stores object MD5s differently: fill with --fill api');
  const metadata = fs.readFileSync(`${first}${METADATA}`);
  for (let i = 1; i < set.count; i++) {
    const file = path.join(dir, set.bucket, set.key(i));
    if (i === 1 || i % 1000 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
    const body = set.body(i);
    fs.writeFileSync(`${file}${OBJECT}`, body);
    fs.writeFileSync(`${file}${MD5}`, md5(body));
    fs.writeFileSync(`${file}${METADATA}`, metadata);
  }
}

/** Reads a few objects back through the API and checks their bytes (the fill is what s3rver serves). */
export async function checkSample(client: S3Client, set: ObjectSet): Promise<void> {
  for (const i of [0, 1, Math.floor(set.count / 2), set.count - 1]) {
    if (i < 0 || i >= set.count) continue;
    const out = await client.send(new GetObjectCommand({ Bucket: set.bucket, Key: set.key(i) }));
    const text = await out.Body!.transformToString();
    if (text !== set.body(i)) throw new Error(`${set.key(i)}: s3rver answered ${JSON.stringify(text.slice(0, 100))}`);
  }
}

/** A plain listing's result: objects counted, wall seconds, and this process's CPU seconds. */
export interface ListFigures {
  count: number;
  seconds: number;
  cpuSeconds: number;
}

/** Lists every object under the set's prefix with ListObjectsV2, 1,000 per page, one page at a time. */
export async function listAll(client: S3Client, set: ObjectSet): Promise<ListFigures> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  let count = 0;
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: set.bucket, Prefix: set.prefix, ContinuationToken: token, MaxKeys: 1000 }));
    count += page.Contents?.length ?? 0;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const used = process.cpuUsage(cpu);
  return { count, seconds: (performance.now() - started) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}
