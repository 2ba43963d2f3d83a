/**
 * SSRF protection and custom CA certificates for server-side fetches (issue 7).
 *
 * Nothing here connects beyond loopback: the address classifier is tested on literal addresses,
 * name resolution through an injected lookup (the policy must refuse before any socket opens),
 * and the end-to-end refusals with loopback servers (127.0.0.1 and 127.0.0.2) as targets.
 */
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { classifyAddress, createAddressPolicy, parseIpLiteral } from '../../src/outbound/address-policy.js';
import { outboundRequest, type Lookup } from '../../src/outbound/outbound.js';
import { call, DIALECTS, startServer, type TestServer } from '../harness.js';
import { makeTeam, type Member } from '../factories.js';
import { makeCa, makeTempDir, removeTempDir, type TestCa } from '../tls-fixtures.js';

/** A loopback HTTP(S) server that counts the requests it saw. */
interface Target {
  url: string;
  port: number;
  seen: string[];
  close: () => Promise<void>;
}

async function target(handler: http.RequestListener, host = '127.0.0.1', tls?: { cert: string; key: string }): Promise<Target> {
  const seen: string[] = [];
  const listener: http.RequestListener = (req, res) => {
    seen.push(req.url ?? '');
    handler(req, res);
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, host, r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const TASKS = JSON.stringify([{ text: 'one' }, { text: 'two' }]);
const serveTasks: http.RequestListener = (_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end(TASKS);

/** A config as the server would load it, from explicit settings only. */
const configWith = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', HOST: '127.0.0.1', LABELVAULT_DATA_DIR: os.tmpdir(), ...env });
const PROTECTED = configWith({ SSRF_PROTECTION_ENABLED: 'true' });

describe('address classifier', () => {
  // [host as written, canonical address, words the refusal must contain]
  const REFUSED: [string, string, RegExp][] = [
    ['127.0.0.1', '127.0.0.1', /loopback/],
    ['127.255.255.254', '127.255.255.254', /loopback/],
    ['2130706433', '127.0.0.1', /loopback/], // decimal
    ['017700000001', '127.0.0.1', /loopback/], // octal, one part
    ['0177.0.0.1', '127.0.0.1', /loopback/], // octal
    ['0x7f.1', '127.0.0.1', /loopback/], // hex, short
    ['0x7F000001', '127.0.0.1', /loopback/], // hex, one part
    ['127.1', '127.0.0.1', /loopback/], // short
    ['127.0.1', '127.0.0.1', /loopback/], // short, three parts
    ['0x7f.0.0.01', '127.0.0.1', /loopback/], // mixed hex and octal
    ['127.0.0.1.', '127.0.0.1', /loopback/], // trailing dot
    ['0', '0.0.0.0', /unspecified/],
    ['0.0.0.0', '0.0.0.0', /unspecified/],
    ['10.0.0.5', '10.0.0.5', /private/],
    ['012.0.0.5', '10.0.0.5', /private/],
    ['167772165', '10.0.0.5', /private/],
    ['172.16.0.1', '172.16.0.1', /private/],
    ['172.31.255.255', '172.31.255.255', /private/],
    ['192.168.1.1', '192.168.1.1', /private/],
    ['0xc0a80101', '192.168.1.1', /private/],
    ['169.254.169.254', '169.254.169.254', /cloud metadata/],
    ['0xa9fea9fe', '169.254.169.254', /cloud metadata/],
    ['169.254.1.1', '169.254.1.1', /link-local/],
    ['100.64.0.1', '100.64.0.1', /carrier-grade NAT/],
    ['100.100.100.200', '100.100.100.200', /carrier-grade NAT/], // another cloud's metadata
    ['224.0.0.1', '224.0.0.1', /multicast/],
    ['239.255.255.250', '239.255.255.250', /multicast/],
    ['240.0.0.1', '240.0.0.1', /reserved/],
    ['255.255.255.255', '255.255.255.255', /broadcast/],
    ['192.0.0.192', '192.0.0.192', /reserved/],
    ['192.0.2.1', '192.0.2.1', /documentation/],
    ['198.51.100.7', '198.51.100.7', /documentation/],
    ['203.0.113.9', '203.0.113.9', /documentation/],
    ['198.18.0.1', '198.18.0.1', /benchmarking/],
    ['::1', '::1', /loopback/],
    ['[::1]', '::1', /loopback/],
    ['0:0:0:0:0:0:0:1', '::1', /loopback/],
    ['::', '::', /unspecified/],
    ['::ffff:127.0.0.1', '::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1 \(loopback\)/],
    ['[::ffff:7f00:1]', '::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1/],
    ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', /IPv4-mapped form of 169\.254\.169\.254 \(link-local, cloud metadata/],
    ['::ffff:10.0.0.5', '::ffff:a00:5', /IPv4-mapped form of 10\.0\.0\.5 \(private\)/],
    ['::ffff:0:10.0.0.5', '::ffff:0:a00:5', /IPv4-translated form of 10\.0\.0\.5/],
    ['::127.0.0.1', '::7f00:1', /IPv4-compatible form of 127\.0\.0\.1/],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1', /NAT64 form of 127\.0\.0\.1/],
    ['64:ff9b::a9fe:a9fe', '64:ff9b::a9fe:a9fe', /NAT64 form of 169\.254\.169\.254/],
    ['64:ff9b:1::1', '64:ff9b:1::1', /NAT64 local use/],
    ['2002:7f00:1::1', '2002:7f00:1::1', /6to4 form of 127\.0\.0\.1/],
    ['2002:c0a8:101::', '2002:c0a8:101::', /6to4 form of 192\.168\.1\.1/],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:0:4136:e378:8000:63bf:3fff:fdd2', /Teredo/],
    ['fe80::1', 'fe80::1', /link-local/],
    ['fe80::1%eth0', 'fe80::1', /link-local/],
    ['febf:ffff::1', 'febf:ffff::1', /link-local/],
    ['fec0::1', 'fec0::1', /site-local/],
    ['fc00::1', 'fc00::1', /unique-local/],
    ['fd00:ec2::254', 'fd00:ec2::254', /unique-local/], // a cloud's IPv6 metadata address
    ['ff02::1', 'ff02::1', /multicast/],
    ['2001:db8::1', '2001:db8::1', /documentation/],
    ['3fff::1', '3fff::1', /documentation/],
    ['2001:2::1', '2001:2::1', /benchmarking/],
    ['100::1', '100::1', /reserved/],
    ['4000::1', '4000::1', /reserved/],
  ];
  const ALLOWED: [string, string][] = [
    ['93.184.216.34', '93.184.216.34'],
    ['8.8.8.8', '8.8.8.8'],
    ['1.1.1.1', '1.1.1.1'],
    ['172.32.0.1', '172.32.0.1'], // just past 172.16/12
    ['100.128.0.1', '100.128.0.1'], // just past 100.64/10
    ['169.255.0.1', '169.255.0.1'],
    ['1572395042', '93.184.216.34'], // decimal form of a public address
    ['2606:2800:220:1:248:1893:25c8:1946', '2606:2800:220:1:248:1893:25c8:1946'],
    ['2a00:1450:4001:82b::200e', '2a00:1450:4001:82b::200e'],
    ['::ffff:93.184.216.34', '::ffff:5db8:d822'],
    ['64:ff9b::93.184.216.34', '64:ff9b::5db8:d822'], // NAT64 of a public address
    ['2002:5db8:d822::1', '2002:5db8:d822::1'], // 6to4 of a public address
  ];

  it(`refuses ${REFUSED.length} non-public forms, read the way the system resolver reads them`, () => {
    expect(REFUSED.length).toBeGreaterThanOrEqual(40);
    const policy = createAddressPolicy(PROTECTED.outbound);
    for (const [host, canonical, why] of REFUSED) {
      expect(parseIpLiteral(host), host).toBe(canonical);
      expect(classifyAddress(host), host).toMatch(why);
      expect(policy(canonical, host), host).toMatch(why);
    }
  });

  it('allows public addresses (classified only, never contacted)', () => {
    const policy = createAddressPolicy(PROTECTED.outbound);
    for (const [host, canonical] of ALLOWED) {
      expect(parseIpLiteral(host), host).toBe(canonical);
      expect(classifyAddress(host), host).toBeNull();
      expect(policy(canonical, host), host).toBeNull();
    }
  });

  it('reads names as names, and refuses anything that is not an address', () => {
    for (const name of ['example.com', 'localhost', '1.2.3.08', '1.2.3.4.5', '0x100000000', '256.1.1.1.1', '127.0.0.1x']) {
      expect(parseIpLiteral(name), name).toBeNull();
    }
    expect(classifyAddress('example.com')).toBe('not an IP address');
  });

  it('lets an administrator allow names, suffixes, addresses and networks, and nothing more', () => {
    const policy = createAddressPolicy(configWith({ SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: 'minio.internal, *.corp.example, 10.1.0.0/16, fd00:1::/32, 127.0.0.2' }).outbound);
    expect(policy('10.9.9.9', 'minio.internal')).toBeNull();
    expect(policy('10.9.9.9', 'MINIO.internal.')).toBeNull();
    expect(policy('192.168.0.7', 'git.corp.example')).toBeNull();
    expect(policy('10.1.2.3', 'anything.example')).toBeNull();
    expect(policy('::ffff:10.1.2.3', 'anything.example')).toBeNull();
    expect(policy('fd00:1::5', 'anything.example')).toBeNull();
    expect(policy('127.0.0.2', '127.0.0.2')).toBeNull();
    // Refused beside them:
    expect(policy('10.9.9.9', 'minio.internal.evil.example')).toMatch(/private/);
    expect(policy('192.168.0.7', 'corp.example.evil')).toMatch(/private/);
    expect(policy('10.2.0.1', 'anything.example')).toMatch(/private/);
    expect(policy('fd00:2::5', 'anything.example')).toMatch(/unique-local/);
    expect(policy('127.0.0.1', '127.0.0.1')).toMatch(/loopback/);
    expect(policy('169.254.169.254', 'metadata.google.internal')).toMatch(/cloud metadata/);
  });

  it('is off only when told or on a loopback, non-production server', () => {
    const env = { LABELVAULT_DATA_DIR: os.tmpdir() };
    expect(loadConfig({ ...env }).outbound.ssrfProtection).toBe(true); // production by default
    expect(loadConfig({ ...env, NODE_ENV: 'development' }).outbound.ssrfProtection).toBe(false);
    expect(loadConfig({ ...env, NODE_ENV: 'development', HOST: '0.0.0.0' }).outbound.ssrfProtection).toBe(true);
    expect(loadConfig({ ...env, NODE_ENV: 'development', HOST: '::' }).outbound.ssrfProtection).toBe(true);
    expect(loadConfig({ ...env, NODE_ENV: 'development', HOST: '::1' }).outbound.ssrfProtection).toBe(false);
    expect(loadConfig({ ...env, NODE_ENV: 'test', HOST: '192.168.1.10' }).outbound.ssrfProtection).toBe(true);
    expect(loadConfig({ ...env, HOST: '0.0.0.0', SSRF_PROTECTION_ENABLED: 'False' }).outbound.ssrfProtection).toBe(false);
    expect(loadConfig({ ...env, NODE_ENV: 'development', SSRF_PROTECTION_ENABLED: 'True' }).outbound.ssrfProtection).toBe(true);
    expect(createAddressPolicy(configWith({ SSRF_PROTECTION_ENABLED: 'false' }).outbound)('127.0.0.1', '127.0.0.1')).toBeNull();
  });

  it('refuses a bad allowlist entry at start, naming the setting and the entry', () => {
    expect(() => configWith({ SSRF_ALLOWED_HOSTS: 'ok.example, bad host, 10.0.0.0/33' })).toThrow(ConfigError);
    try {
      configWith({ SSRF_ALLOWED_HOSTS: 'ok.example, bad host, 10.0.0.0/33' });
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'SSRF_ALLOWED_HOSTS: "bad host" is not a host name, *.suffix, IP address or CIDR',
        'SSRF_ALLOWED_HOSTS: "10.0.0.0/33" is not a host name, *.suffix, IP address or CIDR',
      ]);
    }
  });
});

describe('resolution: checked once, before any connection', () => {
  let victim: Target;
  let connect: MockInstance<typeof net.Socket.prototype.connect>;
  beforeAll(async () => {
    victim = await target(serveTasks);
    connect = vi.spyOn(net.Socket.prototype, 'connect'); // every TCP connection starts here
  });
  afterAll(async () => {
    connect.mockRestore();
    await victim.close();
  });
  afterEach(() => connect.mockClear());

  /** A lookup answering `addresses` for every name, counting its calls. */
  const lookupOf = (...addresses: string[]) => {
    const fn = vi.fn<Lookup>(async () => addresses.map((address) => ({ address, family: net.isIP(address) })));
    return fn;
  };

  for (const answer of [['10.0.0.5'], ['169.254.169.254'], ['::ffff:127.0.0.1'], ['127.0.0.1'], ['93.184.216.34', '127.0.0.1'], ['fd00:ec2::254']]) {
    it(`refuses a name resolving to ${answer.join(' + ')} without opening a socket`, async () => {
      const lookup = lookupOf(...answer);
      const err = await outboundRequest(`http://innocent.example:${victim.port}/x.json`, { config: PROTECTED, lookup, field: 'url' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 400, validationErrors: { url: [expect.stringMatching(/Refused to connect to innocent\.example: .* address/)] } });
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(connect).not.toHaveBeenCalled();
      expect(victim.seen).toEqual([]);
    });
  }

  it('refuses a name the resolver cannot answer, and a lookup that hangs, without connecting', async () => {
    const nothing = vi.fn<Lookup>(async () => []);
    await expect(outboundRequest(`http://nowhere.example/`, { config: PROTECTED, lookup: nothing })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Cannot resolve/) });
    const hang = vi.fn<Lookup>(() => new Promise(() => {}));
    await expect(outboundRequest(`http://slow.example/`, { config: PROTECTED, lookup: hang, timeoutMs: 200 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/took longer than 200 ms/) });
    expect(connect).not.toHaveBeenCalled();
  });

  it('connects to the very address it checked (no second lookup to rebind), keeping the name', async () => {
    let calls = 0;
    // A rebinding resolver: a vetted address first, a forbidden one for any later query.
    const rebinding = vi.fn<Lookup>(async () => [{ address: calls++ === 0 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
    const allowed = configWith({ SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1' });
    const hostSeen: string[] = [];
    const named = await target((req, res) => {
      hostSeen.push(req.headers.host ?? '');
      serveTasks(req, res);
    });
    try {
      const res = await outboundRequest(`http://rebind.example:${named.port}/x.json`, { config: allowed, lookup: rebinding });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.body.toString())).toHaveLength(2);
      expect(rebinding).toHaveBeenCalledTimes(1);
      expect(hostSeen).toEqual([`rebind.example:${named.port}`]);
      expect(connect).toHaveBeenCalledTimes(1);
    } finally {
      await named.close();
    }
  });

  it('refuses credentials in URLs and schemes other than http(s) before resolving', async () => {
    const lookup = lookupOf('93.184.216.34');
    for (const url of ['file:///etc/passwd', 'gopher://innocent.example/', 'ftp://innocent.example/x.json', 'http://user:pw@innocent.example/']) {
      await expect(outboundRequest(url, { config: PROTECTED, lookup })).rejects.toMatchObject({ status: 400 });
    }
    expect(lookup).not.toHaveBeenCalled();
    expect(connect).not.toHaveBeenCalled();
  });
});

describe.each(DIALECTS)('URL import through the server on %s', (dialect) => {
  let guarded: TestServer; // SSRF protection on, nothing allowed
  let allowing: TestServer; // on, 127.0.0.1 allowed, tight limits
  let open: TestServer; // off
  let origin: Target; // 127.0.0.1
  let inner: Target; // 127.0.0.2: not allowed
  let dripping: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    inner = await target(serveTasks, '127.0.0.2');
    origin = await target((req, res) => {
      const url = req.url ?? '';
      if (url === '/to-inner') return void res.writeHead(302, { location: `${inner.url}/x.json` }).end();
      if (url === '/to-inner-mapped') return void res.writeHead(302, { location: `http://[::ffff:127.0.0.2]:${inner.port}/x.json` }).end();
      if (url === '/to-inner-decimal') return void res.writeHead(302, { location: `http://2130706434:${inner.port}/x.json` }).end();
      if (url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      if (url === '/to-self') return void res.writeHead(302, { location: '/x.json' }).end();
      if (url.startsWith('/loop')) return void res.writeHead(302, { location: `/loop${url.length}` }).end();
      if (url === '/big.json') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ text: `task ${i}` }))));
      if (url === '/silent.json') return; // never answers
      if (url === '/drip.json') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        dripping.push(setInterval(() => res.write(' '), 200)); // never silent, never done
        return;
      }
      serveTasks(req, res);
    });
    [guarded, allowing, open] = await Promise.all([
      startServer(dialect, { SSRF_PROTECTION_ENABLED: 'true' }),
      startServer(dialect, {
        SSRF_PROTECTION_ENABLED: 'true',
        SSRF_ALLOWED_HOSTS: '127.0.0.1',
        OUTBOUND_MAX_REDIRECTS: '3',
        OUTBOUND_MAX_BYTES: '4096',
        OUTBOUND_TIMEOUT_SECONDS: '1',
        OUTBOUND_MAX_DURATION_SECONDS: '2',
      }),
      startServer(dialect, { SSRF_PROTECTION_ENABLED: 'false' }),
    ]);
  });
  afterAll(async () => {
    for (const t of dripping) clearInterval(t);
    await Promise.all([guarded?.close(), allowing?.close(), open?.close(), origin?.close(), inner?.close()]);
  });
  afterEach(() => {
    origin.seen.length = 0;
    inner.seen.length = 0;
  });

  const teams = new Map<TestServer, Promise<{ manager: Member; workspaceId: number }>>();

  /** Imports from `url` into a new project of a team on `server`. */
  async function importUrl(server: TestServer, url: string) {
    if (!teams.has(server)) teams.set(server, makeTeam(server.deps));
    const { manager, workspaceId } = await teams.get(server)!;
    const project = await call(server, 'POST', '/api/projects/', { token: manager.token, body: { workspace: workspaceId, title: 'SSRF' } });
    expect(project.status).toBe(201);
    // A form field `url` (as Label Studio's docs send it); a JSON object body would be one task.
    const sent = await fetch(`${server.url}/api/projects/${project.body.id}/import`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: new URLSearchParams({ url }) });
    const res = { status: sent.status, body: (await sent.json()) as { task_count?: number; validation_errors?: { url?: string[] } } };
    const tasks = await call(server, 'GET', `/api/tasks?project=${project.body.id}`, { token: manager.token });
    return { ...res, taskCount: tasks.body.total ?? tasks.body.count ?? tasks.body.tasks?.length };
  }

  const urlError = (body: { validation_errors?: { url?: string[] } }) => (body.validation_errors?.url ?? []).join(' ');

  it('refuses loopback targets, however written, and the target sees nothing', async () => {
    for (const host of ['127.0.0.1', '2130706433', '0x7f.1', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]', 'localhost']) {
      const r = await importUrl(guarded, `http://${host}:${origin.port}/x.json`);
      expect(r.status, host).toBe(400);
      expect(urlError(r.body), host).toMatch(/loopback/);
      expect(r.taskCount, host).toBe(0);
    }
    expect(origin.seen).toEqual([]);
  });

  it('imports from an allowlisted host, and from anywhere with protection off', async () => {
    for (const server of [allowing, open]) {
      const r = await importUrl(server, `${origin.url}/to-self`);
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body.task_count).toBe(2);
    }
    expect(origin.seen).toEqual(['/to-self', '/x.json', '/to-self', '/x.json']);
  });

  it('checks every redirect hop again: another loopback address or the metadata service is refused', async () => {
    for (const [path, why] of [['/to-inner', /127\.0\.0\.2 is a loopback/], ['/to-inner-mapped', /IPv4-mapped form of 127\.0\.0\.2/], ['/to-inner-decimal', /127\.0\.0\.2 is a loopback/], ['/to-metadata', /cloud metadata/]] as const) {
      const r = await importUrl(allowing, `${origin.url}${path}`);
      expect(r.status, path).toBe(400);
      expect(urlError(r.body), path).toMatch(why);
    }
    expect(origin.seen).toEqual(['/to-inner', '/to-inner-mapped', '/to-inner-decimal', '/to-metadata']);
    expect(inner.seen).toEqual([]);
    // The same redirect is followed where protection is off (the hop, not the server, was refused).
    expect((await importUrl(open, `${origin.url}/to-inner`)).status).toBe(201);
    expect(inner.seen).toEqual(['/x.json']);
  });

  it('bounds redirects, response size and time', async () => {
    const loop = await importUrl(allowing, `${origin.url}/loop`);
    expect(loop.status).toBe(400);
    expect(urlError(loop.body)).toMatch(/Too many redirects \(more than 3\)/);
    expect(origin.seen).toHaveLength(4);

    const big = await importUrl(allowing, `${origin.url}/big.json`);
    expect(big.status).toBe(400);
    expect(urlError(big.body)).toMatch(/larger than 4096 bytes/);
    expect(big.taskCount).toBe(0);
    expect((await importUrl(open, `${origin.url}/big.json`)).status).toBe(201); // the default limit is larger

    const started = Date.now();
    const silent = await importUrl(allowing, `${origin.url}/silent.json`);
    expect(silent.status).toBe(400);
    expect(urlError(silent.body)).toMatch(/did not answer within 1000 ms/);
    const drip = await importUrl(allowing, `${origin.url}/drip.json`);
    expect(drip.status).toBe(400);
    expect(urlError(drip.body)).toMatch(/took longer than the time allowed/);
    expect(Date.now() - started).toBeLessThan(8000);
  });
});

describe('CUSTOM_CA_CERTS for outbound HTTPS', () => {
  let dir: string;
  let ca: TestCa;
  let otherCa: TestCa;
  let secure: Target;
  beforeAll(async () => {
    dir = await makeTempDir();
    ca = await makeCa(dir);
    otherCa = await makeCa(dir, 'other-ca');
    const cert = await ca.issue('server', { dns: ['localhost'], ip: ['127.0.0.1'] });
    secure = await target(serveTasks, '127.0.0.1', cert);
  });
  afterAll(async () => {
    await secure?.close();
    await removeTempDir(dir);
  });

  const trusting = (caFiles?: string) =>
    configWith({ SSRF_PROTECTION_ENABLED: 'true', SSRF_ALLOWED_HOSTS: '127.0.0.1', ...(caFiles !== undefined && { CUSTOM_CA_CERTS: caFiles }) });

  it('refuses a certificate from an unknown CA, and accepts it once the CA is configured', async () => {
    secure.seen.length = 0;
    await expect(outboundRequest(`${secure.url}/x.json`, { config: trusting(), field: 'url' })).rejects.toMatchObject({
      status: 400,
      validationErrors: { url: [expect.stringMatching(/certificate not trusted; see CUSTOM_CA_CERTS/)] },
    });
    await expect(outboundRequest(`${secure.url}/x.json`, { config: trusting(otherCa.certPath) })).rejects.toMatchObject({ status: 400 });
    expect(secure.seen).toEqual([]); // the handshake failed: no request reached it
    const res = await outboundRequest(`${secure.url}/x.json`, { config: trusting(`${otherCa.certPath}, ${ca.certPath}`) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toHaveLength(2);
    expect(secure.seen).toEqual(['/x.json']);
  });

  it('keeps the built-in roots beside the custom ones, read once at start', () => {
    const config = trusting(ca.certPath);
    expect(config.trust.customCaFiles).toEqual([path.resolve(ca.certPath)]);
    expect(config.trust.customCas).toHaveLength(1);
    expect(config.trust.ca!.length).toBeGreaterThan(100);
    expect(config.trust.ca).toContain(config.trust.customCas[0]);
    expect(trusting().trust.ca).toBeUndefined();
  });

  it('imports over HTTPS through the server when CUSTOM_CA_CERTS names the CA', async () => {
    const servers = await Promise.all([startServer('sqlite', { SSRF_ALLOWED_HOSTS: '127.0.0.1', SSRF_PROTECTION_ENABLED: 'true' }), startServer('sqlite', { SSRF_ALLOWED_HOSTS: '127.0.0.1', SSRF_PROTECTION_ENABLED: 'true', CUSTOM_CA_CERTS: ca.certPath })]);
    try {
      const statuses = [];
      for (const server of servers) {
        const { manager, workspaceId } = await makeTeam(server.deps);
        const project = await call(server, 'POST', '/api/projects/', { token: manager.token, body: { workspace: workspaceId, title: 'TLS' } });
        const form = new FormData();
        form.append('url', `${secure.url}/x.json`);
        const sent = await fetch(`${server.url}/api/projects/${project.body.id}/import`, { method: 'POST', headers: { authorization: `Token ${manager.token}` }, body: form });
        const r = { status: sent.status, body: (await sent.json()) as { validation_errors: { url: string[] } } };
        statuses.push(r.status);
        if (r.status === 400) expect(r.body.validation_errors.url.join(' ')).toMatch(/CUSTOM_CA_CERTS/);
      }
      expect(statuses).toEqual([400, 201]);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it('refuses unreadable or non-certificate files at start, naming the setting and the file', () => {
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'not a certificate');
    const broken = path.join(dir, 'broken.pem');
    fs.writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const missing = path.join(dir, 'missing.pem');
    try {
      trusting(`${ca.certPath},${junk},${missing},${broken}`);
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        `CUSTOM_CA_CERTS: ${junk} holds no PEM certificate`,
        `CUSTOM_CA_CERTS: cannot read ${missing} (ENOENT)`,
        `CUSTOM_CA_CERTS: certificate 1 in ${broken} is not a valid X.509 certificate`,
      ]);
    }
    expect(() => configWith({ AWS_CA_BUNDLE: missing })).toThrow(/AWS_CA_BUNDLE: cannot read/);
    expect(configWith({ AWS_CA_BUNDLE: ca.certPath }).trust.awsCaBundle).toEqual({ file: path.resolve(ca.certPath), certs: [ca.cert.trim() + '\n'] });
  });
});
