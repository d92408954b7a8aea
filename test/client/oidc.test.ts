/**
 * The OAuth pieces of `gatehouse login` on their own: PKCE, the authorize URL, the loopback receiver (127.0.0.1 by
 * default, localhost for Cognito), token endpoint errors, the refreshing token provider, and the defaults the
 * CLI assumes for a Cognito pool deployed by this repository.
 */
import { createHash } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { COGNITO_DEFAULTS, isCognitoIssuer } from '../../client/config.js';
import { GatehouseCredentialsError } from '../../client/errors.js';
import {
  buildAuthorizeUrl,
  createPkce,
  exchangeCode,
  OidcError,
  parseLoopbackRedirect,
  RefreshingTokenProvider,
  refreshTokens,
  startLoopbackReceiver,
  usernameOf,
  type LoopbackReceiver,
  type TokenSet,
} from '../../client/oidc.js';
import { DEFAULT_CLI_CALLBACK_URL } from '../../infra/config.js';
import { ok, scriptedServer, type ScriptedServer } from './support.js';

const receivers: LoopbackReceiver[] = [];
const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all([...receivers.splice(0).map((r) => r.close()), ...servers.splice(0).map((s) => s.close())]);
});

async function receiver(options: Parameters<typeof startLoopbackReceiver>[0]): Promise<LoopbackReceiver> {
  const r = await startLoopbackReceiver(options);
  receivers.push(r);
  return r;
}

const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('PKCE and the authorize URL', () => {
  it('S256: the challenge is the base64url SHA-256 of a 43-character verifier; every login gets new ones', () => {
    const pkce = createPkce();
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pkce.challenge).toBe(createHash('sha256').update(pkce.verifier).digest('base64url'));
    expect(createPkce().verifier).not.toBe(pkce.verifier);
  });

  it('carries client, redirect, scopes, state and the challenge', () => {
    const url = buildAuthorizeUrl(
      { issuer: 'https://i.example', authorizationEndpoint: 'https://login.example/oauth2/authorize', tokenEndpoint: 'https://login.example/oauth2/token', clientId: 'cli', scopes: ['openid', 'gatehouse/keys:read'] },
      { redirectUri: 'http://127.0.0.1:5000/callback', state: 'st', pkce: { verifier: 'v', challenge: 'c', method: 'S256' } },
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cli',
      redirect_uri: 'http://127.0.0.1:5000/callback',
      scope: 'openid gatehouse/keys:read',
      state: 'st',
      code_challenge: 'c',
      code_challenge_method: 'S256',
    });
  });
});

describe('the loopback receiver', () => {
  it('only accepts loopback http redirect URIs', () => {
    expect(parseLoopbackRedirect('http://localhost:8976/callback')).toEqual({ hostname: 'localhost', port: 8976, pathname: '/callback' });
    expect(parseLoopbackRedirect('http://127.0.0.1/cb')).toEqual({ hostname: '127.0.0.1', port: 0, pathname: '/cb' });
    for (const bad of ['https://localhost/cb', 'http://0.0.0.0:1/cb', 'http://example.com/cb', 'http://127.0.0.1:1/cb?x=1', 'not a url']) {
      expect(() => parseLoopbackRedirect(bad)).toThrow(TypeError);
    }
  });

  it('defaults to 127.0.0.1 on a free port; other paths get 404, the wrong state 400, the right one the code', async () => {
    const r = await receiver({ state: 's1' });
    expect(r.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect((await fetch(r.redirectUri.replace('/callback', '/favicon.ico'))).status).toBe(404);
    expect((await fetch(`${r.redirectUri}?state=nope&code=evil`)).status).toBe(400);
    const page = await fetch(`${r.redirectUri}?state=s1&code=the-code`);
    expect(page.status).toBe(200);
    await expect(r.code).resolves.toBe('the-code');
    expect((await fetch(`${r.redirectUri}?state=s1&code=again`)).status).toBe(200); // a reload is harmless
  });

  it('Cognito style: http://localhost on a fixed port, answered on 127.0.0.1 (and ::1 when there is one)', async () => {
    const probe = await receiver({ state: 'x' });
    const port = Number(new URL(probe.redirectUri).port);
    await probe.close();
    const r = await receiver({ state: 's2', redirectUri: `http://localhost:${port}/oauth/done` });
    expect(r.redirectUri).toBe(`http://localhost:${port}/oauth/done`);
    expect((await fetch(`http://127.0.0.1:${port}/oauth/done?state=s2&code=c2`)).status).toBe(200);
    await expect(r.code).resolves.toBe('c2');
  });

  it('a fixed port already in use is a clear error', async () => {
    const first = await receiver({ state: 'a' });
    await expect(startLoopbackReceiver({ state: 'b', redirectUri: first.redirectUri })).rejects.toMatchObject({ error: 'port_in_use' });
  });

  it('times out, and close() cancels a waiting login', async () => {
    const slow = await receiver({ state: 'x', timeoutMs: 50 });
    await expect(slow.code).rejects.toMatchObject({ error: 'timeout' });
    const cancelled = await receiver({ state: 'y' });
    await cancelled.close();
    await expect(cancelled.code).rejects.toMatchObject({ error: 'cancelled' });
  });
});

describe('the token endpoint', () => {
  async function tokenServer(answer: (form: URLSearchParams) => { status: number; body: object }): Promise<ScriptedServer> {
    const server = await scriptedServer((_req, res, _i, body) => {
      const { status, body: json } = answer(new URLSearchParams(body));
      ok(res, json, status);
    });
    servers.push(server);
    return server;
  }

  it('exchanges a code (public client, PKCE verifier) and computes the expiry', async () => {
    const server = await tokenServer(() => ({ status: 200, body: { access_token: 'at', id_token: 'it', refresh_token: 'rt', token_type: 'Bearer', expires_in: 120 } }));
    const tokens = await exchangeCode({ tokenEndpoint: `${server.url}/oauth2/token`, clientId: 'cli' }, { code: 'c', redirectUri: 'http://127.0.0.1:1/callback', verifier: 'v' }, { now: () => 1000 });
    expect(tokens).toEqual({ accessToken: 'at', idToken: 'it', refreshToken: 'rt', tokenType: 'Bearer', expiresAt: 121_000 });
    expect(Object.fromEntries(new URLSearchParams(server.requests[0]!.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'cli',
      code: 'c',
      redirect_uri: 'http://127.0.0.1:1/callback',
      code_verifier: 'v',
    });
  });

  it('refresh keeps the refresh token when none comes back (Cognito); OAuth errors become OidcError', async () => {
    const server = await tokenServer((form) =>
      form.get('refresh_token') === 'good' ? { status: 200, body: { access_token: 'new', token_type: 'Bearer', expires_in: 60 } } : { status: 400, body: { error: 'invalid_grant', error_description: 'Refresh Token has expired' } },
    );
    const endpoint = { tokenEndpoint: server.url, clientId: 'cli' };
    await expect(refreshTokens(endpoint, 'good')).resolves.toMatchObject({ accessToken: 'new', refreshToken: 'good' });
    const error = await refreshTokens(endpoint, 'bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OidcError);
    expect(error).toMatchObject({ error: 'invalid_grant', description: 'Refresh Token has expired' });
  });
});

describe('RefreshingTokenProvider', () => {
  const base: TokenSet = { accessToken: 'a1', idToken: 'i1', refreshToken: 'r', tokenType: 'Bearer', expiresAt: 100_000 };

  it('hands out the stored token while fresh, refreshes once (shared) when within the skew, and saves', async () => {
    let now = 0;
    let refreshes = 0;
    const saved: TokenSet[] = [];
    const provider = new RefreshingTokenProvider({
      tokens: base,
      now: () => now,
      refresh: async () => {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 10));
        return { ...base, accessToken: `a${refreshes + 1}`, expiresAt: now + 3_600_000 };
      },
      save: (t) => {
        saved.push(t);
        return Promise.resolve();
      },
    });
    await expect(provider.getToken({ forceRefresh: false })).resolves.toBe('a1');
    now = 50_000; // 50 s before expiry: inside the 60 s skew
    const [x, y] = await Promise.all([provider.getToken({ forceRefresh: false }), provider.getToken({ forceRefresh: false })]);
    expect([x, y, refreshes]).toEqual(['a2', 'a2', 1]);
    expect(saved).toHaveLength(1);
    await expect(provider.getToken({ forceRefresh: true })).resolves.toBe('a3');
  });

  it('without a refresh token, or with a refused one, says to log in again', async () => {
    const none = new RefreshingTokenProvider({ tokens: { ...base, refreshToken: undefined, expiresAt: 0 }, refresh: () => Promise.reject(new Error('unused')) });
    await expect(none.getToken({ forceRefresh: false })).rejects.toThrow(GatehouseCredentialsError);
    const refused = new RefreshingTokenProvider({ tokens: { ...base, expiresAt: 0 }, refresh: () => Promise.reject(new OidcError('invalid_grant')) });
    await expect(refused.getToken({ forceRefresh: false })).rejects.toThrow(/run `gatehouse login`/);
  });

  it('can send the ID token instead', async () => {
    const provider = new RefreshingTokenProvider({ tokens: { ...base, expiresAt: Date.now() + 3_600_000 }, use: 'id', refresh: () => Promise.reject(new Error('unused')) });
    await expect(provider.getToken({ forceRefresh: false })).resolves.toBe('i1');
  });
});

describe('names and defaults', () => {
  it('usernameOf reads cognito:username, then username, for display only', () => {
    expect(usernameOf({ accessToken: jwt({ username: 'bob' }), idToken: jwt({ 'cognito:username': 'bobby' }) })).toBe('bobby');
    expect(usernameOf({ accessToken: jwt({ username: 'bob' }) })).toBe('bob');
    expect(usernameOf({ accessToken: 'opaque' })).toBeUndefined();
  });

  it('Cognito defaults match what the CDK app deploys', async () => {
    expect(COGNITO_DEFAULTS.callbackUrl).toBe(DEFAULT_CLI_CALLBACK_URL);
    const { RESOURCE_SERVER_ID } = await import('../../infra/identity-stack.js');
    expect(COGNITO_DEFAULTS.resourceServerId).toBe(RESOURCE_SERVER_ID);
    expect(isCognitoIssuer('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123')).toBe(true);
    expect(isCognitoIssuer('http://127.0.0.1:5000')).toBe(false);
  });
});
