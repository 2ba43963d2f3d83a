/**
 * What of the packaging can be checked without Docker or Kubernetes (neither runs here):
 * docker-compose.yml parses and has the promised shape; the image's entrypoint script runs on
 * its own (CUSTOM_CA_CERTS checked and handed to Node, roles dispatched); the Helm chart's
 * Chart.yaml and values parse with the documented shape. The chart's templates are NOT rendered
 * (no Helm renderer installs here); the README says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, any>; volumes: Record<string, unknown> };

  it('runs two app nodes, a worker and a one-shot migration from one image, behind a TLS proxy that is the only published port', () => {
    const s = compose.services;
    expect(Object.keys(s).sort()).toEqual(['app', 'migrate', 'minio', 'postgres', 'proxy', 'redis', 'worker']);
    expect(s.app.command).toEqual(['serve']);
    expect(s.app.deploy.replicas).toBe(2);
    expect(s.worker.command).toEqual(['worker']);
    expect(s.migrate.command).toEqual(['migrate']);
    for (const name of ['app', 'worker', 'migrate']) {
      expect(s[name].env_file).toBe('deploy/compose/.env');
      expect(s[name].read_only).toBe(true);
      expect(s[name].volumes).toContain('labelvault-data:/data');
      expect(s[name].environment.CUSTOM_CA_CERTS).toBe('/certs/ca.crt');
    }
    const published = Object.entries(s).filter(([, svc]) => svc.ports).map(([name, svc]) => [name, svc.ports]);
    expect(published).toEqual([['proxy', ['443:8443']]]);
  });

  it('turns TLS on for PostgreSQL and Redis (with client certificates) and verifies both from the app', () => {
    const s = compose.services;
    expect(s.postgres.command).toContain('ssl=on');
    expect(s.redis.command).toEqual(expect.arrayContaining(['--tls-port', '--port', '0', '--tls-auth-clients', 'yes']));
    expect(s.app.environment.POSTGRE_SSL_MODE).toBe('verify-full');
    expect(s.app.environment.REDIS_TLS_CERT_FILE).toBeDefined();
  });

  it('keeps secrets out of the repository: the env file is ignored by git, only an example is committed', () => {
    expect(fs.existsSync(path.join(ROOT, 'deploy/compose/env.example'))).toBe(true);
    const ignored = spawnSync('git', ['check-ignore', '-q', 'deploy/compose/.env'], { cwd: ROOT });
    expect(ignored.status).toBe(0);
    expect(read('docker-compose.yml')).not.toMatch(/PASSWORD\s*[:=]\s*\S/);
  });
});

describe('the image entrypoint (deploy/docker-entrypoint.sh)', () => {
  /** Runs the entrypoint against a fake app folder whose main files print what they were given. */
  function run(args: string[], env: Record<string, string>) {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'lv-entry-'));
    fs.mkdirSync(path.join(app, 'dist/cli'), { recursive: true });
    const printer = 'console.log(JSON.stringify({ file: process.argv[1], args: process.argv.slice(2), extraCa: process.env.NODE_EXTRA_CA_CERTS ?? null }));';
    fs.writeFileSync(path.join(app, 'dist/main.js'), printer);
    fs.writeFileSync(path.join(app, 'dist/cli/main.js'), printer);
    const r = spawnSync('sh', [path.join(ROOT, 'deploy/docker-entrypoint.sh'), ...args], { env: { PATH: process.env.PATH ?? '', LABELVAULT_APP_DIR: app, TMPDIR: app, ...env }, encoding: 'utf8' });
    return { ...r, app };
  }

  it('starts the embedded server by default and dispatches serve, worker and migrate to the CLI', () => {
    const def = run([], {});
    expect(def.status).toBe(0);
    expect(JSON.parse(def.stdout)).toMatchObject({ file: path.join(def.app, 'dist/main.js'), args: [], extraCa: null });
    for (const role of ['serve', 'worker', 'migrate']) {
      const r = run([role], {});
      expect(JSON.parse(r.stdout)).toMatchObject({ file: path.join(r.app, 'dist/cli/main.js'), args: [role] });
    }
  });

  it('honours CUSTOM_CA_CERTS: bundles the listed PEM files for Node, and refuses a missing or non-PEM file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lv-ca-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=Test CA', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.pem')], { stdio: 'ignore' });
    fs.copyFileSync(path.join(dir, 'ca.pem'), path.join(dir, 'second.pem'));
    const ok = run(['serve'], { CUSTOM_CA_CERTS: `${path.join(dir, 'ca.pem')}, ${path.join(dir, 'second.pem')}` });
    expect(ok.status, ok.stderr).toBe(0);
    const bundle = JSON.parse(ok.stdout).extraCa as string;
    expect(fs.readFileSync(bundle, 'utf8').match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    const missing = run(['serve'], { CUSTOM_CA_CERTS: path.join(dir, 'nope.pem') });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/CUSTOM_CA_CERTS: cannot read/);
    const notPem = run(['serve'], { CUSTOM_CA_CERTS: path.join(dir, 'ca.key') });
    expect(notPem.status).toBe(2);
    expect(notPem.stderr).toMatch(/holds no PEM certificate/);
  });
});

describe('the Helm chart (deploy/helm/labelvault)', () => {
  const chartDir = 'deploy/helm/labelvault';
  const values = parse(read(`${chartDir}/values.yaml`)) as Record<string, any>;

  it('has the values shape of the issue: image, replicas, resources, ingress with TLS, existing secrets, custom CAs, extra volumes per role', () => {
    expect(parse(read(`${chartDir}/Chart.yaml`))).toMatchObject({ apiVersion: 'v2', name: 'labelvault' });
    expect(values.global.customCaCerts).toEqual([]);
    expect(Object.keys(values.secrets).sort()).toEqual(['database', 'metricsToken', 'redis', 'secretKey', 'storage']);
    for (const role of ['app', 'worker']) {
      expect(values[role]).toMatchObject({ replicas: expect.any(Number), extraVolumes: [], extraVolumeMounts: [] });
      expect(values[role].containerSecurityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(values[role].podSecurityContext).toMatchObject({ runAsNonRoot: true });
    }
    expect(values.ingress.tls.secretName).toBeTruthy();
    expect(values.migration.enabled).toBe(true);
    expect(values.networkPolicy.enabled).toBe(true);
  });

  it('has templates for both deployments (probes on /health and /ready), the migration Job and the NetworkPolicy', () => {
    const templates = fs.readdirSync(path.join(ROOT, chartDir, 'templates')).sort();
    expect(templates).toEqual(['_helpers.tpl', 'deployment-app.yaml', 'deployment-worker.yaml', 'ingress.yaml', 'migration-job.yaml', 'networkpolicy.yaml', 'service.yaml']);
    for (const role of ['app', 'worker']) {
      const text = read(`${chartDir}/templates/deployment-${role}.yaml`);
      expect(text).toContain('path: /health');
      expect(text).toContain('path: /ready');
      expect(text).toContain(`args: [${role === 'app' ? 'serve' : 'worker'}]`);
    }
    expect(read(`${chartDir}/templates/migration-job.yaml`)).toContain('args: [migrate]');
  });
});
