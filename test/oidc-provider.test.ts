import { createHash, generateKeyPairSync } from 'node:crypto';
import { connect } from 'node:net';

import { JwtVerifier } from 'aws-jwt-verify';
import type { Fetcher } from 'aws-jwt-verify/https';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startLocalOidc, type LocalOidc } from '../local/oidc/provider.js';
import { spawnLocalOidc } from './support/oidc-process.js';
import { pkceAuthorization, TestBrowser } from './support/browser.js';

interface TokenResponse {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  scope?: string;
  expires_in?: number;
  token_type?: string;
  error?: string;
}

// aws-jwt-verify's default fetcher is https-only; the local issuer is plain http on loopback.
const httpFetcher: Fetcher = {
  async fetch(uri) {
    const res = await fetch(uri);
    if (!res.ok) throw new Error(`JWKS fetch ${uri} answered ${res.status}`);
    return res.arrayBuffer();
  },
};

function verifierFor(oidc: Pick<LocalOidc, 'issuer' | 'jwksUri'>, audience: string | null) {
  return JwtVerifier.create(
    { issuer: oidc.issuer, jwksUri: oidc.jwksUri, audience },
    { jwksCache: new SimpleJwksCache({ fetcher: httpFetcher }) },
  );
}

function header(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function tokenRequest(
  oidc: Pick<LocalOidc, 'tokenEndpoint'>,
  body: Record<string, string>,
  basic?: { clientId: string; clientSecret: string },
): Promise<{ status: number; json: TokenResponse }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${Buffer.from(`${basic.clientId}:${basic.clientSecret}`).toString('base64')}`;
  const res = await fetch(oidc.tokenEndpoint, { method: 'POST', headers, body: new URLSearchParams(body) });
  return { status: res.status, json: (await res.json()) as TokenResponse };
}

function machineToken(oidc: LocalOidc | Awaited<ReturnType<typeof spawnLocalOidc>>['config'], scope?: string) {
  return tokenRequest(oidc, { grant_type: 'client_credentials', ...(scope ? { scope } : {}) }, oidc.machineClient);
}

interface LoginAttempt {
  browser: TestBrowser;
  verifier: string;
  state: string;
  redirectUri: string;
  formUrl: string;
}

const REDIRECT_URI = 'http://127.0.0.1:53682/callback'; // registered without a port: RFC 8252 loopback rule

async function beginLogin(oidc: LocalOidc, scope: string): Promise<LoginAttempt> {
  const browser = new TestBrowser();
  const { url, verifier, state } = pkceAuthorization({
    authorizationEndpoint: oidc.authorizationEndpoint,
    clientId: oidc.loginClient.clientId,
    redirectUri: REDIRECT_URI,
    scope,
  });
  const { page, url: pageUrl } = await browser.follow(url, {}, REDIRECT_URI);
  expect(page?.status).toBe(200);
  const html = await page!.text();
  expect(html).toMatch(/<input name="username"/);
  expect(html).toMatch(/<input name="password" type="password"/);
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  expect(action).toBeDefined();
  return { browser, verifier, state, redirectUri: REDIRECT_URI, formUrl: new URL(action!, pageUrl).href };
}

async function submitLogin(attempt: LoginAttempt, username: string, password: string) {
  return attempt.browser.follow(
    attempt.formUrl,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }),
    },
    attempt.redirectUri,
  );
}

async function exchangeCode(oidc: LocalOidc, attempt: LoginAttempt, code: string, verifier = attempt.verifier) {
  return tokenRequest(oidc, {
    grant_type: 'authorization_code',
    client_id: oidc.loginClient.clientId,
    code,
    redirect_uri: attempt.redirectUri,
    code_verifier: verifier,
  });
}

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('local OIDC provider', () => {
  let oidc: LocalOidc;

  beforeAll(async () => {
    const started = Date.now();
    oidc = await startLocalOidc();
    console.log(`local OIDC started in-process in ${Date.now() - started} ms`);
  });

  afterAll(async () => {
    await oidc?.close();
  });

  it('describes itself with Cognito-like endpoints and defaults', () => {
    expect(oidc.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(oidc.jwksUri).toBe(`${oidc.issuer}/.well-known/jwks.json`);
    expect(oidc.tokenEndpoint).toBe(`${oidc.issuer}/oauth2/token`);
    expect(oidc.authorizationEndpoint).toBe(`${oidc.issuer}/oauth2/authorize`);
    expect(oidc.resourceServerId).toBe('gatehouse');
    expect(oidc.machineClient.scopes).toEqual([
      'gatehouse/keys:read',
      'gatehouse/keys:write',
      'gatehouse/items:read',
      'gatehouse/items:write',
      'gatehouse/usage:read',
      'gatehouse/audit:read',
    ]);
    expect(oidc.loginClient.redirectUris).toEqual(['http://127.0.0.1/callback']);
    expect(oidc.users.map(({ username, groups }) => ({ username, groups }))).toEqual([
      { username: 'alice', groups: ['admins'] },
      { username: 'bob', groups: ['users'] },
    ]);
    for (const user of oidc.users) expect(user.password.length).toBeGreaterThanOrEqual(20);
  });

  describe('client credentials', () => {
    it('issues a Cognito-shaped access token that aws-jwt-verify accepts', async () => {
      const { status, json } = await machineToken(oidc);
      expect(status).toBe(200);
      expect(json).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
      const token = json.access_token!;
      expect(header(token)).toEqual({ alg: 'RS256', kid: expect.any(String) }); // Cognito's header: no typ

      const payload = await verifierFor(oidc, oidc.resourceServerId).verify(token);
      expect(payload).toMatchObject({
        iss: oidc.issuer,
        sub: oidc.machineClient.clientId,
        client_id: oidc.machineClient.clientId,
        aud: 'gatehouse',
        token_use: 'access',
        jti: expect.any(String),
      });
      // Like Cognito: no scope requested means every scope the client is allowed.
      expect(payload.scope).toBe(oidc.machineClient.scopes.join(' '));
      expect(json.scope).toBe(payload.scope);
      expect(payload.exp! - payload.iat!).toBe(3600);
      expect(payload).not.toHaveProperty('username');
      expect(payload).not.toHaveProperty('cognito:groups');
      // A verifier that ignores aud (as one written for real Cognito access tokens would) also accepts it.
      await expect(verifierFor(oidc, null).verify(token)).resolves.toBeDefined();
    });

    it('grants only requested scopes the client is allowed', async () => {
      const { json } = await machineToken(oidc, 'gatehouse/items:read gatehouse/not-a-scope');
      expect(json.scope).toBe('gatehouse/items:read');
      const payload = await verifierFor(oidc, 'gatehouse').verify(json.access_token!);
      expect(payload.scope).toBe('gatehouse/items:read');
    });

    it('rejects a wrong client secret', async () => {
      const { status, json } = await tokenRequest(
        oidc,
        { grant_type: 'client_credentials' },
        { clientId: oidc.machineClient.clientId, clientSecret: 'wrong' },
      );
      expect(status).toBe(401);
      expect(json.error).toBe('invalid_client');
    });
  });

  describe('authorization code with PKCE', () => {
    let refreshToken: string;
    let aliceSub: string;

    it('signs alice in through the HTML form and issues Cognito-shaped tokens', async () => {
      const alice = oidc.users.find((user) => user.username === 'alice')!;
      aliceSub = alice.sub;
      const attempt = await beginLogin(oidc, 'openid gatehouse/items:read gatehouse/keys:write');
      const { callback } = await submitLogin(attempt, 'alice', alice.password);
      expect(callback?.searchParams.get('state')).toBe(attempt.state);
      const code = callback?.searchParams.get('code');
      expect(code).toBeTruthy();

      const { status, json } = await exchangeCode(oidc, attempt, code!);
      expect(status).toBe(200);
      expect(json.scope?.split(' ').sort()).toEqual(['gatehouse/items:read', 'gatehouse/keys:write', 'openid']);
      expect(json.refresh_token).toBeTruthy();
      refreshToken = json.refresh_token!;

      const access = await verifierFor(oidc, 'gatehouse').verify(json.access_token!);
      expect(access).toMatchObject({
        iss: oidc.issuer,
        sub: alice.sub,
        client_id: oidc.loginClient.clientId,
        token_use: 'access',
        username: 'alice',
        'cognito:groups': ['admins'],
      });
      expect(access.scope).toBe(json.scope);
      expect(access).not.toHaveProperty('custom:tenant');

      expect(header(json.id_token!)).toMatchObject({ alg: 'RS256', kid: header(json.access_token!).kid });
      const id = await verifierFor(oidc, oidc.loginClient.clientId).verify(json.id_token!);
      expect(id).toMatchObject({
        iss: oidc.issuer,
        sub: alice.sub,
        aud: oidc.loginClient.clientId,
        token_use: 'id',
        'cognito:username': 'alice',
        'cognito:groups': ['admins'],
      });
    });

    it('shows the form again with an error on a wrong password, and gives no code', async () => {
      const attempt = await beginLogin(oidc, 'openid gatehouse/items:read');
      const wrong = await submitLogin(attempt, 'alice', 'not-her-password');
      expect(wrong.callback).toBeUndefined();
      expect(wrong.page?.status).toBe(401);
      const html = await wrong.page!.text();
      expect(html).toContain('Incorrect username or password.');
      expect(html).toContain('value="alice"');

      const unknown = await submitLogin(attempt, 'mallory', 'whatever');
      expect(unknown.page?.status).toBe(401);

      // The same interaction still accepts the right password afterwards.
      const bob = oidc.users.find((user) => user.username === 'bob')!;
      const { callback } = await submitLogin(attempt, 'bob', bob.password);
      const { json } = await exchangeCode(oidc, attempt, callback!.searchParams.get('code')!);
      const access = await verifierFor(oidc, 'gatehouse').verify(json.access_token!);
      expect(access).toMatchObject({ username: 'bob', 'cognito:groups': ['users'] });
    });

    it('item 10: the sign-in page names the product and what it signs in to, labels its fields, and allows only its own stylesheet (CSP hash)', async () => {
      const browser = new TestBrowser();
      const { url } = pkceAuthorization({ authorizationEndpoint: oidc.authorizationEndpoint, clientId: oidc.loginClient.clientId, redirectUri: REDIRECT_URI, scope: 'openid' });
      const { page } = await browser.follow(url, {}, REDIRECT_URI);
      const html = await page!.text();
      expect(html).toContain('<title>Sign in · Gatehouse</title>');
      expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(html).toContain('to continue to the Gatehouse command line');
      expect(html).not.toContain(oidc.loginClient.clientId);
      expect(html).toMatch(/<label for="username">Username<input name="username" id="username"/);
      expect(html).toMatch(/<label for="password">Password<input name="password" type="password" id="password"/);
      expect(html).not.toMatch(/<script|style="|<link/i);

      // The one inline stylesheet is exactly what the CSP's hash allows; nothing else may load or run.
      const csp = page!.headers.get('content-security-policy') ?? '';
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
      expect(styles).toHaveLength(1);
      expect(csp).toBe(`default-src 'none'; style-src 'sha256-${createHash('sha256').update(styles[0]!).digest('base64')}'; base-uri 'none'; frame-ancestors 'none'`);
      expect(page!.headers.get('x-frame-options')).toBe('DENY');
      expect(page!.headers.get('cache-control')).toBe('no-store');

      // A wrong password: the error comes before the fields and is tied to them; the username stays, the password goes.
      const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!;
      const wrong = await browser.follow(
        new URL(action, oidc.issuer).href,
        { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username: 'alice', password: 'nope' }) },
        REDIRECT_URI,
      );
      const again = await wrong.page!.text();
      expect(wrong.page!.headers.get('content-security-policy')).toBe(csp);
      expect(again.indexOf('role="alert"')).toBeGreaterThan(-1);
      expect(again.indexOf('role="alert"')).toBeLessThan(again.indexOf('<form'));
      expect(again).toMatch(/<input name="username" id="username"[^>]*value="alice"[^>]*aria-invalid="true" aria-describedby="sign-in-error"/);
      expect(again).toMatch(/<input name="password" type="password" id="password"[^>]*aria-describedby="sign-in-error" autofocus>/);
    });

    it('refuses an authorization request without PKCE', async () => {
      const url = new URL(oidc.authorizationEndpoint);
      url.search = new URLSearchParams({
        client_id: oidc.loginClient.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
      }).toString();
      const { callback } = await new TestBrowser().follow(url.href, {}, REDIRECT_URI);
      expect(callback?.searchParams.get('error')).toBe('invalid_request');
      expect(callback?.searchParams.get('code')).toBeNull();
    });

    it('rejects a code redeemed with the wrong PKCE verifier', async () => {
      const attempt = await beginLogin(oidc, 'openid');
      const alice = oidc.users.find((user) => user.username === 'alice')!;
      const { callback } = await submitLogin(attempt, 'alice', alice.password);
      const { status, json } = await exchangeCode(oidc, attempt, callback!.searchParams.get('code')!, 'x'.repeat(43));
      expect(status).toBe(400);
      expect(json.error).toBe('invalid_grant');
    });

    it('refreshes tokens with the refresh_token grant', async () => {
      expect(refreshToken).toBeTruthy();
      const { status, json } = await tokenRequest(oidc, {
        grant_type: 'refresh_token',
        client_id: oidc.loginClient.clientId,
        refresh_token: refreshToken,
      });
      expect(status).toBe(200);
      expect(json.refresh_token).toBe(refreshToken); // not rotated, like Cognito's default
      const access = await verifierFor(oidc, 'gatehouse').verify(json.access_token!);
      expect(access).toMatchObject({ sub: aliceSub, username: 'alice', token_use: 'access', 'cognito:groups': ['admins'] });
      expect(access.scope?.split(' ').sort()).toEqual(['gatehouse/items:read', 'gatehouse/keys:write', 'openid']);
      const id = await verifierFor(oidc, oidc.loginClient.clientId).verify(json.id_token!);
      expect(id).toMatchObject({ token_use: 'id', 'cognito:username': 'alice' });
    });
  });

  it('honours custom options: users with tenant, scopes, clients, key, TTL', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const custom = await startLocalOidc({
      resourceServerId: 'https://api.example.test',
      scopes: ['read', 'write'],
      users: [{ username: 'carol', password: 'Carol-pass-1', groups: [], sub: 'carol-sub', tenant: 'acme' }],
      machineClient: { clientId: 'machine', clientSecret: 'machine-secret', scopes: ['read'] },
      loginClient: { clientId: 'spa', redirectUris: ['http://localhost/cb', REDIRECT_URI] },
      accessTokenTtlSeconds: 120,
      signingKey: { ...privateKey.export({ format: 'jwk' }), kid: 'my-key' },
    });
    try {
      expect(custom.machineClient).toEqual({ clientId: 'machine', clientSecret: 'machine-secret', scopes: ['https://api.example.test/read'] });
      const { json } = await machineToken(custom);
      expect(header(json.access_token!).kid).toBe('my-key');
      const machine = await verifierFor(custom, 'https://api.example.test').verify(json.access_token!);
      expect(machine).toMatchObject({ sub: 'machine', scope: 'https://api.example.test/read' });
      expect(machine.exp! - machine.iat!).toBe(120);

      const attempt = await beginLogin(custom, 'openid https://api.example.test/write');
      const { callback } = await submitLogin(attempt, 'carol', 'Carol-pass-1');
      const tokens = await exchangeCode(custom, attempt, callback!.searchParams.get('code')!);
      const access = await verifierFor(custom, 'https://api.example.test').verify(tokens.json.access_token!);
      expect(access).toMatchObject({ sub: 'carol-sub', username: 'carol', 'custom:tenant': 'acme', scope: expect.stringContaining('https://api.example.test/write') });
      expect(access).not.toHaveProperty('cognito:groups'); // Cognito omits it for users in no group
      const id = await verifierFor(custom, 'spa').verify(tokens.json.id_token!);
      expect(id).toMatchObject({ 'cognito:username': 'carol', 'custom:tenant': 'acme' });
    } finally {
      await custom.close();
    }
    expect(await refused(custom.issuer)).toBe(true);
  });

  it('close() leaves nothing listening, even with keep-alive connections open', async () => {
    const other = await startLocalOidc();
    await machineToken(other); // leaves a pooled keep-alive socket behind
    await other.close();
    await other.close(); // idempotent
    expect(await refused(other.issuer)).toBe(true);
  });

  it('runs as a child process whose tokens verify, and stops cleanly', async () => {
    const started = Date.now();
    const child = await spawnLocalOidc();
    console.log(`local OIDC child process ready in ${Date.now() - started} ms`);
    try {
      const { json } = await machineToken(child.config);
      const payload = await verifierFor(child.config, child.config.resourceServerId).verify(json.access_token!);
      expect(payload).toMatchObject({ client_id: child.config.machineClient.clientId, token_use: 'access' });
    } finally {
      await child.stop();
    }
    expect(await refused(child.config.issuer)).toBe(true);
  });
});
