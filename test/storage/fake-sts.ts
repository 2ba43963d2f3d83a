/**
 * A fake AWS STS on loopback, for tests of S3 storages that assume an IAM role. Why a fake: no
 * emulator that runs here offers STS (s3rver has none; azurite is Azure), and tests reach only
 * loopback. It answers the one call the server makes, AssumeRole over the Query API, as AWS does
 * (XML answers, AccessDenied for a role or external ID the trust policy does not accept), and it
 * verifies each request's SigV4 signature with its own implementation of the algorithm, written
 * from AWS's description (not the signer the server uses), against the base keys it knows.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake received, as it understood it. */
export interface StsCall {
  params: URLSearchParams;
  /** The access key id the request was signed with (null when unsigned or malformed). */
  accessKeyId: string | null;
  /** Region and service of the signature's scope. */
  region: string | null;
  service: string | null;
  signatureValid: boolean;
  /** What the fake answered. */
  status: number;
}

/** What the fake's one role trusts, and the temporary credentials it hands out. */
export interface FakeStsTrust {
  roleArn: string;
  externalId: string;
  /** Base keys that may call it: access key id → secret. */
  keys: Record<string, string>;
  temporary: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export interface FakeSts {
  url: string;
  calls: StsCall[];
  stop(): Promise<void>;
}

const sha256 = (data: string) => crypto.createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => crypto.createHmac('sha256', key).update(data).digest();

/** Checks an `Authorization: AWS4-HMAC-SHA256 …` header against the request and the known secrets. */
function verifySigV4(req: http.IncomingMessage, body: string, keys: Record<string, string>): Pick<StsCall, 'accessKeyId' | 'region' | 'service' | 'signatureValid'> {
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(req.headers.authorization ?? '');
  if (!m) return { accessKeyId: null, region: null, service: null, signatureValid: false };
  const [, accessKeyId, day, region, service, signedHeaders, signature] = m as unknown as string[];
  const names = signedHeaders!.split(';');
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const canonicalHeaders = names.map((h) => `${h}:${String(req.headers[h] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonicalRequest = [req.method, new URL(req.url ?? '/', 'http://sts').pathname, '', canonicalHeaders, signedHeaders, sha256(body)].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const secret = keys[accessKeyId!];
  let valid = false;
  if (secret !== undefined && names.includes('host') && names.includes('x-amz-date') && amzDate.startsWith(day!)) {
    const key = ['aws4_request'].reduce((k, part) => hmac(k, part), hmac(hmac(hmac(`AWS4${secret}`, day!), region!), service!));
    const expected = hmac(key, stringToSign).toString('hex');
    const fresh = Math.abs(Date.parse(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z')) - Date.now()) < 15 * 60_000;
    valid = fresh && crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature!));
  }
  return { accessKeyId: accessKeyId!, region: region!, service: service!, signatureValid: valid };
}

/** Text every error message of the fake carries: tests check it never reaches an API client. */
export const STS_MESSAGE_MARKER = 'fake-sts-message-text';

const xmlError = (code: string, message: string) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message} (${STS_MESSAGE_MARKER})</Message></Error><RequestId>fake</RequestId></ErrorResponse>`;

/** The answer to one request: status and XML body. */
function answer(call: Omit<StsCall, 'status'>, trust: FakeStsTrust): [number, string] {
  const p = call.params;
  if (call.accessKeyId === null || !(call.accessKeyId in trust.keys)) return [403, xmlError('InvalidClientTokenId', 'The security token included in the request is invalid.')];
  if (!call.signatureValid || call.service !== 'sts') return [403, xmlError('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.')];
  if (p.get('Action') !== 'AssumeRole' || p.get('Version') !== '2011-06-15') return [400, xmlError('InvalidAction', 'Unknown action.')];
  if (p.get('RoleArn') !== trust.roleArn || p.get('ExternalId') !== trust.externalId) return [403, xmlError('AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${p.get('RoleArn')}`)];
  const seconds = Number(p.get('DurationSeconds') ?? 3600);
  const t = trust.temporary;
  const expiration = new Date(Date.now() + seconds * 1000).toISOString();
  return [
    200,
    `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser><Arn>${trust.roleArn}/${p.get('RoleSessionName')}</Arn><AssumedRoleId>AROAFAKE:${p.get('RoleSessionName')}</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>${t.accessKeyId}</AccessKeyId><SecretAccessKey>${t.secretAccessKey}</SecretAccessKey><SessionToken>${t.sessionToken}</SessionToken><Expiration>${expiration}</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></AssumeRoleResponse>`,
  ];
}

/** Starts the fake on a free loopback port. */
export async function startFakeSts(trust: FakeStsTrust): Promise<FakeSts> {
  const calls: StsCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const call = { params: new URLSearchParams(body), ...verifySigV4(req, body, trust.keys) };
      const [status, xml] = answer(call, trust);
      calls.push({ ...call, status });
      res.writeHead(status, { 'content-type': 'text/xml' }).end(xml);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
