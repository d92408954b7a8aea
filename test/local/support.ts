/**
 * Helpers for the local-stack suites: a stack on port 0 in a temp state directory, real HTTP clients for every
 * credential kind (API key, client-credentials token, a person's token through the login form, SigV4), and
 * checks for the error envelope and for closed ports.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';
import type { LocalConfig } from '../../local/state.js';
import { pkceAuthorization, TestBrowser } from '../support/browser.js';

export interface TestStack extends LocalStack {
  /** fetch against the API: `api('/v1/whoami', { headers })`. */
  api(path: string, init?: RequestInit): Promise<Response>;
  /** Closes the stack and removes its state directory. */
  stop(): Promise<void>;
}

export async function tempDir(prefix = 'gatehouse-local-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A stack on a free port, in a fresh temp state directory, configured only by `env`, logging nothing. */
export async function startTestStack(options: Omit<LocalStackOptions, 'port'> & { port?: number } = {}): Promise<TestStack> {
  const stateDir = options.stateDir ?? (await tempDir());
  let stack: LocalStack;
  try {
    stack = await startLocalStack({ port: 0, env: {}, logLevel: 'SILENT', ...options, stateDir });
  } catch (error) {
    if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
  return {
    ...stack,
    api: (path, init) => fetch(`${stack.apiUrl}${path}`, init),
    stop: async () => {
      await stack.close();
      if (!options.stateDir) await rm(stateDir, { recursive: true, force: true });
    },
  };
}

export const bearer = (credential: string): Record<string, string> => ({ authorization: `Bearer ${credential}` });

export const jsonBody = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  requestId: string;
}

/** Asserts the RFC 9457 envelope (CONTRACT §4) with this status and code, and returns it. */
export async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String), type: expect.stringMatching(/^https:\/\//) });
  expect(body.requestId).toBeTruthy();
  return body;
}

/** True when nothing accepts connections at `url` any more. */
export function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

/** A request from another loopback source address (127.0.0.x), for per-IP rules, with the path sent as written. */
export function requestFrom(
  localAddress: string,
  url: string,
  init: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const target = new URL(url);
  // The path exactly as written (URL would resolve dot segments such as `..` and `%2E%2E` before sending).
  const path = url.slice(target.origin.length) || '/';
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port: Number(target.port), path, method: init.method ?? 'GET', headers: init.headers, localAddress, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

// -------------------------------------------------------------------------------------------------------------
// OIDC: machine tokens (client credentials) and people's tokens (authorization code + PKCE through the form)
// -------------------------------------------------------------------------------------------------------------

interface TokenResponse {
  access_token?: string;
  id_token?: string;
  scope?: string;
  error?: string;
}

export async function machineToken(config: LocalConfig, scope?: string): Promise<string> {
  const { clientId, clientSecret } = config.oidc.machineClient;
  const res = await fetch(config.oidc.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  const json = (await res.json()) as TokenResponse;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json.access_token!;
}

/** The registered redirect URI on some port (RFC 8252 loopback rule): nothing listens there, the code is read from the Location. */
const REDIRECT_URI = 'http://127.0.0.1:53682/callback';

/**
 * Signs a person in through the provider's HTML login form (asking, by default, for every scope the stack's
 * resource server offers — the machine client's list in local.json) — authorize → login form POST → consent redirect →
 * code → token — with plain fetch, and returns their tokens.
 */
export async function personTokens(
  config: LocalConfig,
  username: string,
  scope = ['openid', ...config.oidc.machineClient.scopes].join(' '),
): Promise<{ accessToken: string; idToken: string }> {
  const user = config.oidc.users.find((u) => u.username === username);
  if (!user) throw new Error(`no user ${username}`);
  const browser = new TestBrowser();
  const authorize = pkceAuthorization({
    authorizationEndpoint: config.oidc.authorizationEndpoint,
    clientId: config.oidc.loginClient.clientId,
    redirectUri: REDIRECT_URI,
    scope,
  });
  const { verifier, state } = authorize;

  const { page, url: pageUrl } = await browser.follow(authorize.url, {}, REDIRECT_URI);
  expect(page?.status).toBe(200);
  const html = await page!.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(action, 'login form').toBeDefined();

  const { callback } = await browser.follow(
    new URL(action!, pageUrl).href,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password: user.password }),
    },
    REDIRECT_URI,
  );
  expect(callback?.searchParams.get('state')).toBe(state);
  const code = callback?.searchParams.get('code');
  expect(code, 'authorization code').toBeTruthy();

  const res = await fetch(config.oidc.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.oidc.loginClient.clientId,
      code: code!,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }),
  });
  const json = (await res.json()) as TokenResponse;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return { accessToken: json.access_token!, idToken: json.id_token! };
}

// -------------------------------------------------------------------------------------------------------------
// SigV4, signed the way an AWS SDK client signs (@smithy/signature-v4), with a hash of the test's own
// -------------------------------------------------------------------------------------------------------------

class TestSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.make();
  }
  private make(): Hash | Hmac {
    if (this.secret === undefined) return createHash('sha256');
    const secret = this.secret;
    if (typeof secret === 'string') return createHmac('sha256', secret);
    return createHmac('sha256', ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(new Uint8Array(secret)));
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.make();
  }
}

export interface SignOptions {
  readonly method?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly region?: string;
  readonly service?: string;
  readonly signingDate?: Date;
  /** false: no x-amz-content-sha256 header (the server must hash the body itself). */
  readonly applyChecksum?: boolean;
  /** Send the signed request to this URL instead (tampering with path or query). */
  readonly sendTo?: string;
  /** Change the request after signing (tampering). */
  readonly after?: (request: { headers: Record<string, string>; body: string | undefined }) => void;
}

/** Signs a request to `url` with the local IAM credentials (or the overrides) and sends it with fetch. */
export async function signedFetch(config: LocalConfig, url: string, options: SignOptions = {}): Promise<Response> {
  const target = new URL(url);
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: options.accessKeyId ?? config.iam.accessKeyId,
      secretAccessKey: options.secretAccessKey ?? config.iam.secretAccessKey,
    },
    region: options.region ?? config.iam.region,
    service: options.service ?? 'execute-api',
    sha256: TestSha256,
    ...(options.applyChecksum === undefined ? {} : { applyChecksum: options.applyChecksum }),
  });
  const method = options.method ?? 'POST';
  const signed = await signer.sign(
    {
      method,
      protocol: 'http:',
      hostname: target.hostname,
      port: Number(target.port),
      path: target.pathname,
      query: Object.fromEntries(target.searchParams),
      headers: { host: target.host, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: options.body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) if (name !== 'host') headers[name] = String(value);
  const request = { headers, body: options.body };
  options.after?.(request);
  return fetch(options.sendTo ?? url, { method, headers: request.headers, ...(request.body === undefined ? {} : { body: request.body }) });
}
