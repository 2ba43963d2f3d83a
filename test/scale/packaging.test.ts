/**
 * What of the packaging can be checked without Docker or Kubernetes (neither runs here):
 * docker-compose.yml parses and has the promised shape; the image's entrypoint script runs on
 * its own (CUSTOM_CA_CERTS checked and handed to Node, roles dispatched); the Helm chart's
 * Chart.yaml and values parse with the documented shape, and its templates are rendered with
 * the default and other values by test/helm-render.ts (the chart's subset of Go templates and
 * Sprig: no Helm binary installs here) and the output parsed as YAML. Nothing is checked against
 * the Kubernetes API; the README says so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { renderChart, TemplateError } from '../helm-render.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');
/** SHUTDOWN_GRACE_SECONDS when a deployment does not set it. */
const DEFAULT_GRACE_SECONDS = loadConfig({ NODE_ENV: 'test' }).shutdown.graceMs / 1000;

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

  it('waits for a graceful stop: app and worker get more than twice SHUTDOWN_GRACE_SECONDS before Docker kills them', () => {
    for (const name of ['app', 'worker']) {
      const svc = compose.services[name];
      const grace = Number(svc.environment.SHUTDOWN_GRACE_SECONDS ?? DEFAULT_GRACE_SECONDS);
      const [, amount, unit] = /^(\d+)(s|m)$/.exec(String(svc.stop_grace_period)) ?? [];
      expect(unit, `${name}.stop_grace_period`).toBeDefined();
      expect(Number(amount) * (unit === 'm' ? 60 : 1)).toBeGreaterThan(2 * grace);
    }
  });

  it('mounts into each service only the certificate files and keys it uses', () => {
    const certsOf = (name: string) =>
      (compose.services[name].volumes as string[])
        .filter((v) => v.startsWith('./deploy/compose/certs'))
        .map((v) => v.split(':')[0]!.replace('./deploy/compose/certs/', ''))
        .sort();
    for (const name of ['app', 'worker', 'migrate']) expect(certsOf(name)).toEqual(['ca.crt', 'redis-client.crt', 'redis-client.key']);
    expect(certsOf('proxy')).toEqual(['proxy.crt', 'proxy.key']);
    expect(certsOf('postgres')).toEqual(['ca.crt', 'postgres.crt', 'postgres.key']);
    expect(certsOf('redis')).toEqual(['ca.crt', 'redis-client.crt', 'redis-client.key', 'redis.crt', 'redis.key']);
    expect(certsOf('minio')).toEqual(['minio']);
  });

  it("the proxy resolves the app's replicas at request time through Docker's DNS, not once at start", () => {
    const conf = read('deploy/compose/nginx.conf');
    expect(conf).toMatch(/^\s*resolver 127\.0\.0\.11 valid=\d+s/m);
    expect(conf).not.toMatch(/^\s*upstream\b/m);
    const target = /^\s*set (\$\w+) http:\/\/app:8080;/m.exec(conf)?.[1];
    expect(target).toBeDefined();
    expect(conf).toContain(`proxy_pass ${target};`);
  });

  it('keeps secrets out of the repository: the env file is ignored by git, only an example is committed', () => {
    expect(fs.existsSync(path.join(ROOT, 'deploy/compose/env.example'))).toBe(true);
    const ignored = spawnSync('git', ['check-ignore', '-q', 'deploy/compose/.env'], { cwd: ROOT });
    expect(ignored.status).toBe(0);
    expect(read('docker-compose.yml')).not.toMatch(/PASSWORD\s*[:=]\s*\S/);
    // The file store's key pair is FILE_STORAGE_S3_*, never the pods' default AWS identity.
    for (const p of ['docker-compose.yml', 'deploy/compose/env.example', 'Dockerfile']) expect(read(p)).not.toMatch(/AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)/);
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
    expect(Object.keys(values.secrets).sort()).toEqual(['database', 'fileStorage', 'metricsToken', 'redis', 'secretKey']);
    for (const role of ['app', 'worker']) {
      expect(values[role]).toMatchObject({ replicas: expect.any(Number), extraVolumes: [], extraVolumeMounts: [] });
      expect(values[role].containerSecurityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(values[role].podSecurityContext).toMatchObject({ runAsNonRoot: true });
    }
    expect(values.ingress.tls.secretName).toBeTruthy();
    expect(values.migration.enabled).toBe(true);
    expect(values.networkPolicy.enabled).toBe(true);
  });

  it('has templates for both deployments, the Service, the Ingress, the migration Job and the NetworkPolicies', () => {
    const templates = fs.readdirSync(path.join(ROOT, chartDir, 'templates')).sort();
    expect(templates).toEqual(['_helpers.tpl', 'deployment-app.yaml', 'deployment-worker.yaml', 'ingress.yaml', 'migration-job.yaml', 'networkpolicy.yaml', 'service.yaml']);
  });

  type K8sObject = { kind: string; metadata: { name: string }; spec: any };
  /** The chart rendered with `overrides`, each file's YAML documents parsed (errors fail the test). */
  const render = (overrides: Record<string, unknown> = {}): K8sObject[] =>
    Object.entries(renderChart(path.join(ROOT, chartDir), overrides)).flatMap(([file, text]) =>
      parseAllDocuments(text).map((doc) => {
        expect(doc.errors, file).toEqual([]);
        return doc.toJS() as K8sObject;
      }).filter((o) => o !== null),
    );
  const byName = (objects: K8sObject[], name: string) => objects.find((o) => o.metadata.name === name)!;
  const containerOf = (o: K8sObject) => o.spec.template.spec.containers[0];
  const envOf = (o: K8sObject) => Object.fromEntries((containerOf(o).env as { name: string; value?: string; valueFrom?: unknown }[]).map((e) => [e.name, e.value ?? e.valueFrom]));
  const pods = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job');

  it('renders with the default values: both roles with probes on /health and /ready, non-root and read-only, the migration Job, Service, Ingress with TLS', () => {
    const objects = render();
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/lv-labelvault-app',
      'Deployment/lv-labelvault-worker',
      'Ingress/lv-labelvault',
      'Job/lv-labelvault-migrate-1',
      'NetworkPolicy/lv-labelvault-app',
      'NetworkPolicy/lv-labelvault-worker',
      'Service/lv-labelvault',
    ]);
    for (const [role, args] of [['app', ['serve']], ['worker', ['worker']]] as const) {
      const d = byName(objects, `lv-labelvault-${role}`);
      expect(d.spec.replicas).toBe(values[role].replicas);
      expect(d.spec.selector.matchLabels).toEqual(d.spec.template.metadata.labels);
      const c = containerOf(d);
      expect(c.args).toEqual(args);
      expect(c.livenessProbe.httpGet).toEqual({ path: '/health', port: 'http' });
      expect(c.readinessProbe.httpGet).toEqual({ path: '/ready', port: 'http' });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(envOf(d)).toMatchObject({ NODE_ENV: 'production', DATABASE_URL: { secretKeyRef: { name: 'labelvault-db', key: 'DATABASE_URL' } } });
    }
    expect(containerOf(byName(objects, 'lv-labelvault-migrate-1')).args).toEqual(['migrate']);
    const service = objects.find((o) => o.kind === 'Service')!;
    expect(service.spec.selector).toEqual(byName(objects, 'lv-labelvault-app').spec.template.metadata.labels);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 'http' }]);
    const ingress = objects.find((o) => o.kind === 'Ingress')!;
    expect(ingress.spec.tls).toEqual([{ hosts: [values.ingress.host], secretName: values.ingress.tls.secretName }]);
  });

  it('gives pods more than twice SHUTDOWN_GRACE_SECONDS before Kubernetes kills them', () => {
    for (const graceSeconds of [values.shutdown.graceSeconds, 45]) {
      for (const d of render({ shutdown: { graceSeconds } }).filter((o) => o.kind === 'Deployment')) {
        const grace = Number(envOf(d).SHUTDOWN_GRACE_SECONDS);
        expect(grace).toBe(graceSeconds);
        expect(d.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(2 * grace);
      }
    }
  });

  it("never sets the pods' default AWS credentials: the file store's key pair is FILE_STORAGE_S3_* only", () => {
    const overrides = { fileStorage: { type: 's3', s3: { bucket: 'lv-files', endpoint: 'https://minio.storage.svc:9000' } }, secrets: { fileStorage: { secretName: 'lv-files' } } };
    for (const objects of [render(), render(overrides)]) {
      for (const o of pods(objects)) expect(Object.keys(envOf(o)).filter((n) => n.startsWith('AWS_'))).toEqual([]);
    }
    const env = envOf(byName(render(overrides), 'lv-labelvault-worker'));
    expect(env).toMatchObject({
      FILE_STORAGE: 's3',
      FILE_STORAGE_S3_BUCKET: 'lv-files',
      FILE_STORAGE_S3_ACCESS_KEY_ID: { secretKeyRef: { name: 'lv-files', key: 'FILE_STORAGE_S3_ACCESS_KEY_ID' } },
      FILE_STORAGE_S3_SECRET_ACCESS_KEY: { secretKeyRef: { name: 'lv-files', key: 'FILE_STORAGE_S3_SECRET_ACCESS_KEY' } },
    });
    expect(env).not.toHaveProperty('STORAGE_SERVER_CREDENTIALS_ENABLED');
    expect(envOf(byName(render({ ...overrides, storages: { serverCredentials: true } }), 'lv-labelvault-app')).STORAGE_SERVER_CREDENTIALS_ENABLED).toBe('true');
    // The pod's identity may not serve project storages while it is the file store's too.
    expect(() => render({ ...overrides, secrets: { fileStorage: { secretName: '' } }, storages: { serverCredentials: true } })).toThrow(/storages.serverCredentials needs secrets.fileStorage/);
    expect(() => render({ fileStorage: { type: 's3' } })).toThrow(/fileStorage.s3.bucket is required/);
    // The old name of secrets.fileStorage is refused, not silently ignored (the pod's identity would serve the file store).
    for (const storage of [{ secretName: 'lv-files' }, { secretName: '', accessKeyIdKey: 'AWS_ACCESS_KEY_ID', secretAccessKeyKey: 'AWS_SECRET_ACCESS_KEY' }]) {
      expect(() => render({ ...overrides, secrets: { storage } })).toThrow(/secrets.storage was renamed secrets.fileStorage/);
      expect(() => render({ secrets: { storage } })).toThrow(/secrets.storage was renamed secrets.fileStorage/);
    }
  });

  it('mounts the data folder from the shared claim, or with fileStorage s3 and no claim from a per-pod emptyDir; local without a claim is refused', () => {
    const dataVolumeOf = (o: K8sObject) => (o.spec.template.spec.volumes as { name: string }[]).find((v) => v.name === 'data');
    const s3 = { fileStorage: { type: 's3', s3: { bucket: 'lv-files' } } };
    // Defaults (local) and s3 with a claim given: every pod mounts the claim at /data.
    for (const objects of [render(), render(s3)]) {
      for (const o of pods(objects)) {
        expect(dataVolumeOf(o)).toEqual({ name: 'data', persistentVolumeClaim: { claimName: values.dataVolume.existingClaim } });
        expect(containerOf(o).volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
        expect(envOf(o).LABELVAULT_DATA_DIR).toBe('/data');
      }
    }
    // s3 without a claim: a node-local emptyDir for the import spool, and still one SECRET_KEY from its Secret.
    const scratch = render({ ...s3, dataVolume: { existingClaim: '' } });
    expect(pods(scratch)).toHaveLength(3);
    for (const o of pods(scratch)) {
      expect(dataVolumeOf(o)).toEqual({ name: 'data', emptyDir: {} });
      expect(containerOf(o).volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
      expect(envOf(o).SECRET_KEY).toEqual({ secretKeyRef: { name: values.secrets.secretKey.secretName, key: 'SECRET_KEY' } });
    }
    // Local files without a claim: refused, for several app nodes, for a worker, and for one pod alone.
    const noClaim = { dataVolume: { existingClaim: '' } };
    expect(() => render(noClaim)).toThrow(/dataVolume.existingClaim is required when fileStorage.type is local with app.replicas > 1 or a worker/);
    expect(() => render({ ...noClaim, app: { replicas: 1 }, worker: { replicas: 1 } })).toThrow(/with app.replicas > 1 or a worker/);
    expect(() => render({ ...noClaim, app: { replicas: 3 }, worker: { replicas: 0 } })).toThrow(/with app.replicas > 1 or a worker/);
    expect(() => render({ ...noClaim, app: { replicas: 1 }, worker: { replicas: 0 } })).toThrow(/dataVolume.existingClaim is required when fileStorage.type is local: .*must outlive the pod/);
    // Without SECRET_KEY each pod would make its own key in its data folder: the Secret is required.
    expect(() => render({ ...s3, dataVolume: { existingClaim: '' }, secrets: { secretKey: { secretName: '' } } })).toThrow(/secrets.secretKey.secretName is required/);
  });

  it('mounts global.customCaCerts and extra volumes into every pod and lists them in CUSTOM_CA_CERTS', () => {
    const objects = render({
      global: { customCaCerts: [{ name: 'corp', secretName: 'corp-ca', secretKey: 'ca.crt' }, { name: 'lab', configMapName: 'lab-ca', configMapKey: 'root.pem' }] },
      app: { extraVolumes: [{ name: 'extra', emptyDir: {} }], extraVolumeMounts: [{ name: 'extra', mountPath: '/extra' }] },
    });
    for (const o of pods(objects)) {
      expect(envOf(o).CUSTOM_CA_CERTS).toBe('/opt/certs/corp.pem,/opt/certs/lab.pem');
      expect(containerOf(o).volumeMounts).toEqual(expect.arrayContaining([{ name: 'ca-corp', mountPath: '/opt/certs/corp.pem', subPath: 'corp.pem', readOnly: true }]));
      expect(o.spec.template.spec.volumes).toEqual(expect.arrayContaining([{ name: 'ca-lab', configMap: { name: 'lab-ca', items: [{ key: 'root.pem', path: 'lab.pem' }] } }]));
    }
    expect(containerOf(byName(objects, 'lv-labelvault-app')).volumeMounts).toContainEqual({ name: 'extra', mountPath: '/extra' });
    expect(containerOf(byName(objects, 'lv-labelvault-worker')).volumeMounts).not.toContainEqual({ name: 'extra', mountPath: '/extra' });
  });

  it("takes Label Studio's customCaCerts shape: file paths mounted through extraVolumes, under worker or rqworker, mixed with object entries", () => {
    // The Kubernetes example of Label Studio's security guide, verbatim (its worker is rqworker).
    const guide = parse(`
global:
  customCaCerts:
   - /opt/heartex/secrets/ca_certs/file/file

app:
  extraVolumes:
    - name: foo
      secret:
        secretName: test-my-root-cert
  extraVolumeMounts:
    - name: foo
      mountPath: "/opt/heartex/secrets/ca_certs/file"
      readOnly: true

rqworker:
  extraVolumes:
    - name: foo
      secret:
        secretName: test-my-root-cert
  extraVolumeMounts:
    - name: foo
      mountPath: "/opt/heartex/secrets/ca_certs/file"
      readOnly: true
`) as Record<string, any>;
    const volume = { name: 'foo', secret: { secretName: 'test-my-root-cert' } };
    const mount = { name: 'foo', mountPath: '/opt/heartex/secrets/ca_certs/file', readOnly: true };
    const { rqworker, ...rest } = guide;
    const corp = { name: 'corp', secretName: 'corp-ca', secretKey: 'ca.crt' };
    const cases = [
      { values: guide, caCerts: '/opt/heartex/secrets/ca_certs/file/file' },
      { values: { ...rest, worker: rqworker }, caCerts: '/opt/heartex/secrets/ca_certs/file/file' },
      { values: { ...guide, global: { customCaCerts: [corp, ...guide.global.customCaCerts] } }, caCerts: '/opt/certs/corp.pem,/opt/heartex/secrets/ca_certs/file/file' },
    ];
    for (const { values: overrides, caCerts } of cases) {
      const objects = pods(render(overrides));
      // App, worker and the migration Job (which connects to PostgreSQL) all trust the file.
      expect(objects.map((o) => o.metadata.name).sort()).toEqual(['lv-labelvault-app', 'lv-labelvault-migrate-1', 'lv-labelvault-worker']);
      for (const o of objects) {
        expect(envOf(o).CUSTOM_CA_CERTS, o.metadata.name).toBe(caCerts);
        const volumes = o.spec.template.spec.volumes as { name: string }[];
        const mounts = containerOf(o).volumeMounts as { name: string }[];
        expect(volumes.filter((v) => v.name === 'foo'), o.metadata.name).toEqual([volume]);
        expect(mounts.filter((m) => m.name === 'foo'), o.metadata.name).toEqual([mount]);
        // A string entry is mounted by the user, never by the chart; an object entry still is.
        const chartCa = volumes.filter((v) => v.name.startsWith('ca-')).map((v) => v.name);
        expect(chartCa).toEqual(caCerts.includes('/opt/certs/corp.pem') ? ['ca-corp'] : []);
        expect(mounts.filter((m) => m.name.startsWith('ca-')).map((m) => m.name)).toEqual(chartCa);
      }
    }
    // rqworker is only an alias of the worker's extra volumes: both at once, or other keys, are refused.
    expect(() => render({ ...guide, worker: rqworker })).toThrow(/set them under one name only/);
    expect(() => render({ rqworker: { replicas: 3 } })).toThrow(/rqworker takes only extraVolumes and extraVolumeMounts/);
    expect(() => render({ global: { customCaCerts: [{ secretName: 'corp-ca', secretKey: 'ca.crt' }] } })).toThrow(/an object entry needs name/);
  });

  it('NetworkPolicies admit only the ingress controller, and Prometheus too when metrics and metricsScraper are on', () => {
    const policies = (objects: K8sObject[]) => Object.fromEntries(objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => [o.metadata.name, o.spec.ingress]));
    const ingressPeer = { from: [{ namespaceSelector: { matchLabels: values.networkPolicy.ingressControllerNamespaceSelector } }], ports: [{ port: 8080, protocol: 'TCP' }] };
    expect(policies(render())).toEqual({ 'lv-labelvault-app': [ingressPeer], 'lv-labelvault-worker': [] });

    const metrics = { metrics: { enabled: true }, secrets: { metricsToken: { secretName: 'lv-metrics' } } };
    const scraper = { enabled: true, namespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' }, podSelector: { 'app.kubernetes.io/name': 'prometheus' } };
    // Metrics on, scraper off (the default): still only the ingress controller.
    expect(policies(render(metrics))).toEqual({ 'lv-labelvault-app': [ingressPeer], 'lv-labelvault-worker': [] });
    const prometheus = { from: [{ namespaceSelector: { matchLabels: scraper.namespaceSelector }, podSelector: { matchLabels: scraper.podSelector } }], ports: [{ port: 8080, protocol: 'TCP' }] };
    expect(policies(render({ ...metrics, networkPolicy: { metricsScraper: scraper } }))).toEqual({ 'lv-labelvault-app': [ingressPeer, prometheus], 'lv-labelvault-worker': [prometheus] });
    // Without a namespace selector the rule would admit every namespace: refused.
    expect(() => render({ ...metrics, networkPolicy: { metricsScraper: { enabled: true } } })).toThrow(TemplateError);
    expect(() => render({ metrics: { enabled: true } })).toThrow(/secrets.metricsToken.secretName is required/);
  });
});
