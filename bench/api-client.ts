/**
 * The few API calls the benchmark makes, over loopback: create a project, import a JSON file as
 * the raw request body (streamed from disk), and download an export while counting its bytes and
 * tasks without keeping it.
 */
import fs from 'node:fs';
import http from 'node:http';
import { pipeline } from 'node:stream/promises';

export interface ImportResult {
  task_count: number;
  annotation_count: number;
  prediction_count: number;
  duration: number;
  /** Seconds from the start of the request until its body was fully sent (the server spools it meanwhile). */
  bodySentSeconds: number;
}

export interface ExportResult {
  bytes: number;
  tasks: number;
}

/** A counter of `needle` across chunks (a match split between two chunks still counts once). */
function occurrenceCounter(needle: Buffer) {
  let carry = Buffer.alloc(0);
  let count = 0;
  return {
    add(chunk: Buffer) {
      const data = carry.length ? Buffer.concat([carry, chunk]) : chunk;
      for (let at = data.indexOf(needle); at !== -1; at = data.indexOf(needle, at + needle.length)) count += 1;
      carry = Buffer.from(data.subarray(Math.max(0, data.length - needle.length + 1)));
    },
    get count() {
      return count;
    },
  };
}

/** A Label Studio style API client authenticated with a legacy token. */
export class BenchApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** POST /api/projects with the benchmark's config; returns the new project's id. */
  async createProject(title: string, labelConfig: string): Promise<number> {
    const res = await fetch(`${this.baseUrl}/api/projects`, {
      method: 'POST',
      headers: { authorization: `Token ${this.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title, label_config: labelConfig }),
    });
    const body = (await res.json()) as { id?: number };
    if (res.status !== 201 || typeof body.id !== 'number') throw new Error(`create project: HTTP ${res.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  /** The id of the user the token belongs to. */
  async currentUserId(): Promise<number> {
    const res = await fetch(`${this.baseUrl}/api/current-user/whoami`, { headers: { authorization: `Token ${this.token}` } });
    const body = (await res.json()) as { id?: number };
    if (!res.ok || typeof body.id !== 'number') throw new Error(`whoami: HTTP ${res.status}`);
    return body.id;
  }

  /** POST /api/projects/{id}/import with the file as the raw JSON body, piped from disk. */
  async importFile(projectId: number, file: string): Promise<ImportResult> {
    const req = http.request(`${this.baseUrl}/api/projects/${projectId}/import`, {
      method: 'POST',
      agent: false,
      headers: { authorization: `Token ${this.token}`, 'content-type': 'application/json', 'content-length': fs.statSync(file).size },
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    const started = performance.now();
    await pipeline(fs.createReadStream(file, { highWaterMark: 256 * 1024 }), req);
    const bodySentSeconds = (performance.now() - started) / 1000;
    const res = await response;
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (res.statusCode !== 201) throw new Error(`import: HTTP ${res.statusCode} ${text.slice(0, 2000)}`);
    return { ...(JSON.parse(text) as Omit<ImportResult, 'bodySentSeconds'>), bodySentSeconds };
  }

  /**
   * Calls GET /health every `everyMs` until `until` settles; returns the slowest answer in
   * seconds (the server's responsiveness to other requests while it imports).
   */
  async slowestHealth(until: Promise<unknown>, everyMs = 250): Promise<number> {
    let done = false;
    void until.finally(() => (done = true)).catch(() => {});
    let slowest = 0;
    while (!done) {
      const started = performance.now();
      const res = await fetch(`${this.baseUrl}/health`);
      await res.arrayBuffer();
      slowest = Math.max(slowest, (performance.now() - started) / 1000);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    return slowest;
  }

  /**
   * GET /api/projects/{id}/export?exportType=…&download_all_tasks=true, consumed as it streams.
   * Tasks are counted as `"inner_id":` keys (JSON, one per task) or lines after the header (CSV,
   * one per task here: every task has at most one annotation and no line breaks in its text).
   */
  async exportTasks(projectId: number, exportType: 'JSON' | 'CSV'): Promise<ExportResult> {
    const url = `${this.baseUrl}/api/projects/${projectId}/export?exportType=${exportType}&download_all_tasks=true`;
    const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
      http.get(url, { agent: false, headers: { authorization: `Token ${this.token}` } }, resolve).once('error', reject);
    });
    if (res.statusCode !== 200) {
      res.resume();
      throw new Error(`export ${exportType}: HTTP ${res.statusCode}`);
    }
    const counter = occurrenceCounter(Buffer.from(exportType === 'JSON' ? '"inner_id":' : '\n'));
    let bytes = 0;
    for await (const chunk of res) {
      bytes += (chunk as Buffer).length;
      counter.add(chunk as Buffer);
    }
    return { bytes, tasks: exportType === 'JSON' ? counter.count : counter.count - 1 };
  }
}
