/**
 * Talking to the local stack over real HTTP: the API (key, JWT or SigV4), and the local OIDC provider's login form
 * (authorization code + PKCE, driven with plain HTTP as a browser would, minus JavaScript).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../../local/gateway/sigv4.js';
import { startLocalStack, type LocalStack } from '../../../local/stack.js';
import { pkceAuthorization, TestBrowser } from '../../support/browser.js';

export interface Reply<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: T;
}

export type Credential = { readonly key: string } | { readonly token: string } | { readonly headers: Record<string, string> } | undefined;

function credentialHeaders(credential: Credential): Record<string, string> {
  if (!credential) return {};
  if ('key' in credential) return { 'X-API-Key': credential.key };
  if ('token' in credential) return { Authorization: `Bearer ${credential.token}` };
  return credential.headers;
}

/** A stack for tests: its own port, state directory and (raised) limits; quiet logs. */
export async function startTestStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const stateDir = mkdtempSync(join(tmpdir(), 'gatehouse-security-stack-'));
  const stack = await startLocalStack({
    port: 0,
    stateDir,
    logLevel: 'SILENT',
    env: { ...process.env, GATEHOUSE_AUTH_MODE: 'enforce', ...env },
  });
  return { ...stack, close: () => stack.close().finally(() => rmSync(stateDir, { recursive: true, force: true })) };
}

export async function call<T = Record<string, unknown>>(
  stack: Pick<LocalStack, 'apiUrl'>,
  method: string,
  path: string,
  options: { credential?: Credential; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...credentialHeaders(options.credential), ...options.headers };
  if (options.body !== undefined) headers['Content-Type'] ??= 'application/json';
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers,
    ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: leave json undefined
  }
  return { status: res.status, headers: res.headers, text, json: json as T };
}

/** POST with a SigV4 signature from the stack's IAM user (as the AWS SDKs sign for execute-api). */
export async function callSigned<T = Record<string, unknown>>(stack: LocalStack, method: string, path: string, body: unknown): Promise<Reply<T>> {
  const url = new URL(`${stack.apiUrl}${path}`);
  const payload = JSON.stringify(body);
  const signer = new SignatureV4({
    service: 'execute-api',
    region: stack.config.iam.region,
    credentials: { accessKeyId: stack.config.iam.accessKeyId, secretAccessKey: stack.config.iam.secretAccessKey },
    sha256: NodeSha256,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: Number(url.port),
    path: url.pathname,
    query: {},
    headers: { host: url.host, 'content-type': 'application/json' },
    body: payload,
  });
  const res = await fetch(url, { method, headers: signed.headers as Record<string, string>, body: payload });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: (text === '' ? undefined : JSON.parse(text)) as T };
}

// ---------------------------------------------------------------------------------------------------------------
// OIDC: a person's tokens through the login form, a machine's through client credentials
// ---------------------------------------------------------------------------------------------------------------

const REDIRECT_URI = 'http://127.0.0.1:53682/callback'; // registered without a port: the loopback rule

/** A person's access token (authorization code + PKCE through the plain HTML login form). */
export async function personToken(stack: LocalStack, username: string, scope: string): Promise<string> {
  const oidc = stack.config.oidc;
  const user = oidc.users.find((u) => u.username === username);
  if (!user) throw new Error(`no local user ${username}`);
  const browser = new TestBrowser();
  const { url, verifier } = pkceAuthorization({
    authorizationEndpoint: oidc.authorizationEndpoint,
    clientId: oidc.loginClient.clientId,
    redirectUri: REDIRECT_URI,
    scope,
  });
  const { page, url: pageUrl } = await browser.follow(url, {}, REDIRECT_URI);
  const html = await page!.text();
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form: ${html.slice(0, 200)}`);
  const { callback } = await browser.follow(
    new URL(action, pageUrl).href,
    { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username, password: user.password }) },
    REDIRECT_URI,
  );
  const code = callback?.searchParams.get('code');
  if (!code) throw new Error(`login of ${username} did not return a code`);
  const res = await fetch(oidc.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: oidc.loginClient.clientId, code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no access token for ${username}: ${JSON.stringify(json)}`);
  return json.access_token;
}

/** A machine's access token (client credentials) with the given scopes (qualified or not). */
export async function machineToken(stack: LocalStack, scopes: readonly string[]): Promise<string> {
  const { clientId, clientSecret } = stack.config.oidc.machineClient;
  const res = await fetch(stack.config.oidc.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: scopes.map((s) => (s.includes('/') ? s : `gatehouse/${s}`)).join(' ') }),
  });
  const json = (await res.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no machine token: ${JSON.stringify(json)}`);
  return json.access_token;
}

export const ALL_REQUESTED = 'openid gatehouse/keys:read gatehouse/keys:write gatehouse/items:read gatehouse/items:write gatehouse/usage:read gatehouse/audit:read';
