/**
 * Issue 17 on one machine: `npm start -- --mtls` (and `--https`) over real TLS sockets — the handshake, the
 * certificate-bound principals the authorizer builds from the `requestContext.identity.clientCert` the local gateway
 * hands it, the refusals and their audit events — and the CLI presenting a client certificate.
 *
 * The stack is started twice with --persist in one state directory: the first run makes the local CA and the OIDC
 * machine client (whose id is the tenant of its tokens); the second is configured with certificate principals for
 * certificates that CA issued.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatehouseClient } from '../../client/index.js';
import { createLocalCa, issueClientCertificate, loadLocalCa, type IssuedCertificate, type LocalCa } from '../../local/tls/ca.js';
import { runCli } from '../client/support.js';
import { machineToken, startTestStack, tempDir, type TestStack } from './support.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One HTTPS request with (or without) a client certificate: the answer, or the TLS error that stopped it. */
function call(url: string, init: { cert?: IssuedCertificate; ca: string; method?: string; headers?: Record<string, string>; body?: string; tls?: RequestOptions }): Promise<Answer | { error: string }> {
  return new Promise((resolve) => {
    const req = request(url, {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(init.body ? { 'content-type': 'application/json' } : {}) },
      ca: init.ca,
      agent: false,
      ...(init.cert ? { cert: init.cert.certPem, key: init.cert.keyPem } : {}),
      ...init.tls,
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', (error: NodeJS.ErrnoException) => resolve({ error: `${error.code ?? ''}: ${error.message}` }));
    req.end(init.body);
  });
}

const answered = (result: Answer | { error: string }): Answer => {
  if ('error' in result) throw new Error(`no answer: ${result.error}`);
  return result;
};

let stateDir: string;
let stack: TestStack;
let ca: LocalCa;
let caPem: string;
let machineTenant: string;
const certs = {} as Record<'billing' | 'reports' | 'revoked' | 'expired' | 'foreign', IssuedCertificate>;

beforeAll(async () => {
  stateDir = await tempDir('gatehouse-mtls-');
  const first = await startTestStack({ stateDir, persist: true, tls: 'mtls' });
  machineTenant = first.config.oidc.machineClient.clientId;
  await first.close();

  const files = join(stateDir, 'tls');
  ca = await loadLocalCa(readFileSync(join(files, 'ca.pem'), 'utf8'), readFileSync(join(files, 'ca-key.pem'), 'utf8'));
  caPem = ca.certPem;
  const other = await createLocalCa({ subject: 'CN=Gatehouse local CA,O=Gatehouse' }); // same name, another key
  const day = 86_400_000;
  [certs.billing, certs.reports, certs.revoked, certs.expired, certs.foreign] = await Promise.all([
    issueClientCertificate(ca, { subject: 'CN=billing-svc,O=Example' }),
    issueClientCertificate(ca, { subject: 'CN=reports-svc,O=Example' }),
    issueClientCertificate(ca, { subject: 'CN=billing-svc,O=Example' }),
    issueClientCertificate(ca, { subject: 'CN=billing-svc,O=Example', notBefore: new Date(Date.now() - 30 * day), notAfter: new Date(Date.now() - day) }),
    issueClientCertificate(other, { subject: 'CN=billing-svc,O=Example' }),
  ]);
  const issuer = ca.subject;
  const clientCertificates = {
    principals: [
      { name: 'billing', match: { subject: 'CN=billing-svc,O=Example', issuer }, tenant: 'billing', scopes: ['items:read'], mode: 'certificate' },
      { name: 'reports', match: { subject: 'CN=reports-svc,O=Example', issuer }, tenant: machineTenant, scopes: ['items:read', 'usage:read'], mode: 'certificate+credential' },
    ],
    revoked: [{ sha256: certs.revoked.sha256 }],
    // The local client certificate (unmapped) lets an operator use ordinary credentials, e.g. the admin key.
    unmapped: 'credential',
  };
  stack = await startTestStack({ stateDir, persist: true, tls: 'mtls', env: { GATEHOUSE_CLIENT_CERTIFICATES: JSON.stringify(clientCertificates) } });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

const api = (path: string, init: Omit<Parameters<typeof call>[1], 'ca'> = {}) => call(`${stack.apiUrl}${path}`, { ca: caPem, ...init });
const localClient = (): IssuedCertificate => {
  const tls = stack.config.tls!.clientCertificate!;
  return { certPem: readFileSync(tls.cert, 'utf8'), keyPem: readFileSync(tls.key, 'utf8'), sha256: tls.sha256, serial: '', subject: tls.subject };
};
const adminKey = () => ({ authorization: `Bearer ${stack.config.adminKey}` });

describe('issue 17: the local stack with --mtls', () => {
  it('local.json names the CA and a client certificate it issued; the API is https', () => {
    expect(stack.apiUrl).toMatch(/^https:\/\/localhost:\d+$/);
    expect(stack.config.tls).toMatchObject({ mode: 'mtls', ca: join(stateDir, 'tls', 'ca.pem'), clientCertificate: { subject: 'CN=gatehouse-local-client,O=Gatehouse local', issuer: ca.subject } });
  });

  it('no client certificate: the handshake fails, nothing is answered', async () => {
    expect(await api('/health')).toEqual({ error: expect.stringMatching(/CERTIFICATE_REQUIRED|ECONNRESET|EPIPE/) });
  });

  it('a certificate from another CA (same name, another key): refused in the handshake', async () => {
    expect(await api('/v1/whoami', { cert: certs.foreign })).toEqual({ error: expect.stringMatching(/ALERT|ECONNRESET|EPIPE/) });
  });

  it('an expired certificate of the local CA: refused in the handshake', async () => {
    expect(await api('/v1/whoami', { cert: certs.expired })).toEqual({ error: expect.stringMatching(/ALERT|ECONNRESET|EPIPE/) });
  });

  it('a mapped certificate gets exactly its scopes, and nothing beside it', async () => {
    const whoami = answered(await api('/v1/whoami', { cert: certs.billing }));
    expect(whoami.status, whoami.body).toBe(200);
    expect(JSON.parse(whoami.body)).toEqual({ principalId: 'cert:billing', authMethod: 'certificate', tenant: 'billing', scopes: ['items:read'], certificate: 'billing', plan: 'unlimited', admin: false });
    expect(answered(await api('/v1/items', { cert: certs.billing })).status).toBe(200);
    expect(answered(await api('/v1/items', { cert: certs.billing, method: 'POST', body: '{"name":"x"}' })).status).toBe(403);
    expect(answered(await api('/v1/usage', { cert: certs.billing })).status).toBe(403);
    expect(answered(await api('/v1/keys', { cert: certs.billing })).status).toBe(403);
    // A key beside a certificate-mode certificate: two answers to "who is this" are none.
    const both = answered(await api('/v1/whoami', { cert: certs.billing, headers: adminKey() }));
    expect(both.status).toBe(401);
    expect(JSON.parse(both.body)).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
  });

  it('certificate + credential mode requires both, of one tenant; scopes are what both allow', async () => {
    const token = await machineToken(stack.config);
    // The certificate alone: the same 401 as any refused credential.
    const alone = answered(await api('/v1/whoami', { cert: certs.reports }));
    expect(alone.status).toBe(401);
    expect(JSON.parse(alone.body)).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    // The credential alone never gets past the handshake.
    expect(await api('/v1/whoami', { headers: { authorization: `Bearer ${token}` } })).toHaveProperty('error');
    // Both: the token's principal, bound to the certificate.
    const both = answered(await api('/v1/whoami', { cert: certs.reports, headers: { authorization: `Bearer ${token}` } }));
    expect(both.status, both.body).toBe(200);
    expect(JSON.parse(both.body)).toMatchObject({ authMethod: 'jwt', tenant: machineTenant, scopes: ['items:read', 'usage:read'], certificate: 'reports' });
    // A credential of another tenant (the admin key) with this certificate: refused.
    expect(answered(await api('/v1/whoami', { cert: certs.reports, headers: adminKey() })).status).toBe(401);
    // An API key of the tenant, made by an operator path (the unmapped local certificate and the token), works too.
    const created = answered(await api('/v1/keys', { cert: localClient(), method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ name: 'reports', scopes: ['items:read', 'items:write'] }) }));
    expect(created.status, created.body).toBe(201);
    const { key } = JSON.parse(created.body) as { key: string };
    const withKey = answered(await api('/v1/whoami', { cert: certs.reports, headers: { 'x-api-key': key } }));
    expect(JSON.parse(withKey.body)).toMatchObject({ authMethod: 'api_key', tenant: machineTenant, scopes: ['items:read'], certificate: 'reports' });
    expect(answered(await api('/v1/items', { cert: certs.reports, method: 'POST', headers: { 'x-api-key': key }, body: '{"name":"x"}' })).status).toBe(403);
  });

  it('a certificate revoked by configuration: 401, audited with its serial and subject, never the certificate', async () => {
    const refused = answered(await api('/v1/whoami', { cert: certs.revoked }));
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'AUTHENTICATION_FAILED' });
    await stack.drainBookkeeping();
    const audit = answered(await api('/v1/audit?tenant=_system&type=credential.refused', { cert: localClient(), headers: adminKey() }));
    expect(audit.status, audit.body).toBe(200);
    const events = (JSON.parse(audit.body) as { events: { reason?: string; details?: Record<string, unknown> }[] }).events;
    const revoked = events.find((e) => e.reason === 'certificate_revoked');
    expect(revoked?.details).toMatchObject({ credentialKind: 'certificate', certificateSerial: certs.revoked.serial.replace(/^0+/, ''), certificateSubject: 'CN=billing-svc,O=Example' });
    expect(audit.body).not.toMatch(/BEGIN CERTIFICATE|MII[A-Za-z0-9+/]{20}/);
  });

  it('the CLI presents the client certificate: profile local, and --cert/--key with --certificate-only', async () => {
    const env = { GATEHOUSE_STATE_DIR: stateDir, GATEHOUSE_CONFIG_DIR: join(stateDir, 'cli'), HOME: stateDir };
    const asAdmin = await runCli(['--profile', 'local', '--use-admin-key', '--json', 'whoami'], { env });
    expect(asAdmin.code, asAdmin.stderr).toBe(0);
    expect(JSON.parse(asAdmin.stdout)).toMatchObject({ tenant: 'admin', authMethod: 'api_key' });

    const dir = await tempDir('gatehouse-mtls-cli-');
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text, { mode: 0o600 });
      return file;
    };
    const cert = write('billing.pem', certs.billing.certPem);
    const key = write('billing-key.pem', certs.billing.keyPem);
    const asService = await runCli(['--profile', 'local', '--cert', cert, '--key', key, '--certificate-only', '--json', 'whoami'], { env });
    expect(asService.code, asService.stderr).toBe(0);
    expect(JSON.parse(asService.stdout)).toMatchObject({ principalId: 'cert:billing', scopes: ['items:read'] });
    // Without --certificate-only the local admin key goes along: refused, exit 3.
    expect((await runCli(['--profile', 'local', '--cert', cert, '--key', key, 'whoami'], { env })).code).toBe(3);
  });
});

describe('issue 17: the client library with a client certificate', () => {
  it('presents it over https, never over http', async () => {
    const billingClient = new GatehouseClient({ baseUrl: stack.apiUrl, tls: { cert: certs.billing.certPem, key: certs.billing.keyPem, ca: caPem } });
    expect(await billingClient.whoami()).toMatchObject({ principalId: 'cert:billing', scopes: ['items:read'] });
    const plain = new GatehouseClient({ baseUrl: stack.apiUrl.replace('https:', 'http:'), tls: { cert: certs.billing.certPem, key: certs.billing.keyPem }, retry: { maxRetries: 0 } });
    await expect(plain.whoami()).rejects.toThrow(/only ever sent over https/);
  });
});

describe('issue 17: the local stack with --https', () => {
  let https: TestStack;
  beforeAll(async () => {
    https = await startTestStack({ tls: 'https' });
  }, 30_000);
  afterAll(async () => {
    await https?.stop();
  });

  it('TLS 1.3 only, the local CA, no client certificate asked for; credentials as usual', async () => {
    const ca = readFileSync(https.config.tls!.ca, 'utf8');
    expect(https.config.tls).toEqual({ mode: 'https', ca: expect.stringMatching(/ca\.pem$/) });
    const whoami = answered(await call(`${https.apiUrl}/v1/whoami`, { ca, headers: { authorization: `Bearer ${https.config.adminKey}` } }));
    expect(whoami.status).toBe(200);
    expect(await call(`${https.apiUrl}/health`, { ca, tls: { maxVersion: 'TLSv1.2' } })).toEqual({ error: expect.stringMatching(/protocol version/i) });
    // Not trusted without the local CA.
    expect(await call(`${https.apiUrl}/health`, { ca: caPem })).toEqual({ error: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
  });
});
