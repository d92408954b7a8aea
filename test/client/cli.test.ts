/**
 * Every `gatehouse` command, run in-process against a real local stack: login through the real login form, token
 * storage and refresh, key management, `call` with every credential kind, and what each failure prints and exits.
 */
import { ALL_SCOPES } from '../../lambdas/routes.js';
import { existsSync } from 'node:fs';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { EXIT } from '../../client/cli.js';
import { loginWithCli, ok, PRINTED_URL, problem, removeTempDirs, runCli, scriptedServer, startCli, startTestStack, tempDir, TestBrowser, type TestStack } from './support.js';

let stack: TestStack;
/** Runs the CLI against the stack's profile `local`. */
const local = (args: string[], env: Record<string, string | undefined> = stack.env, stdin?: string) =>
  runCli(['--profile', 'local', ...args], { env, ...(stdin === undefined ? {} : { stdin }) });
/** The same, as the local stack's admin: asked for explicitly, as a person must. */
const asAdmin = (args: string[], env: Record<string, string | undefined> = stack.env, stdin?: string) => local(['--use-admin-key', ...args], env, stdin);

const KEY_PATTERN = /gth_test_[A-Za-z0-9]{12}_[A-Za-z0-9]+/;
const first12 = (secret: string) => secret.slice(0, 12);

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  await removeTempDirs();
});

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

describe('gatehouse with no login: the local admin key only when asked for', () => {
  it('item 1: with no credential, a command refuses (exit 3) with the next steps; it never acts as the admin unasked', async () => {
    const { code, stdout, stderr } = await local(['keys', 'list']);
    expect(code).toBe(EXIT.AUTH);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'Error: No credential for profile local: run `gatehouse --profile local login`, pass --api-key, add --use-admin-key to act as the ' +
        "local stack's admin key (tenant admin, every scope), or set GATEHOUSE_API_KEY.\n",
    );
  });

  it('item 1: --use-admin-key acts as the local admin and every command says so; item 6: whoami shows the administrator', async () => {
    const list = await asAdmin(['keys', 'list']);
    expect(list.code, list.stderr).toBe(EXIT.OK);
    expect(list.stderr).toBe("Using the local stack's admin key (--use-admin-key): tenant admin, every scope.\n");

    const { code, stdout, stderr } = await asAdmin(['whoami']);
    expect(stderr).toBe(''); // whoami names the credential in its answer
    expect(code).toBe(EXIT.OK);
    expect(stdout).toMatch(/^principal\s+key:\w{12}$/m);
    expect(stdout).toMatch(/^tenant\s+admin$/m);
    expect(stdout).toMatch(/^administrator\s+yes \(reads every tenant's audit trail\)$/m);
    expect(stdout).toMatch(/^credential\s+the local stack's admin key$/m);
    expect(stdout).not.toContain(stack.config.adminKey); // never prints a secret it was not asked for
  });

  it('item 6: whoami --json prints the API answer, administrator included; the credential is a JSON notice on stderr', async () => {
    const { code, stdout, stderr } = await asAdmin(['whoami', '--json']);
    expect(code).toBe(0);
    expect(parseJson(stdout)).toMatchObject({ authMethod: 'api_key', tenant: 'admin', admin: true, scopes: expect.arrayContaining(['audit:read']) });
    expect(stderr.trimEnd().split('\n').map((l) => parseJson<Record<string, unknown>>(l))).toEqual([
      { event: 'credential', source: 'admin-key', message: "Using the local stack's admin key (--use-admin-key): tenant admin, every scope." },
    ]);
  });

  it('item 1: --use-admin-key is for the local stack only, and is one credential: not with --api-key', async () => {
    const both = await local(['--use-admin-key', '--api-key', stack.config.adminKey, 'whoami']);
    expect(both.code).toBe(EXIT.USAGE);
    expect(both.stderr).toContain('--api-key and --use-admin-key are two credentials: pass one.');
    expect(both.stderr).not.toContain(stack.config.adminKey);
    const remote = await runCli(['--api-url', stack.apiUrl, '--profile', 'adhoc', '--use-admin-key', 'whoami'], { env: stack.env });
    expect(remote.code).toBe(EXIT.USAGE);
    expect(remote.stderr).toContain('--use-admin-key is for the local stack (--profile local): profile adhoc has no admin key.');
  });

  it('--help documents the exit codes, and no arguments is a usage error', async () => {
    const help = await runCli(['--help'], { env: stack.env });
    expect(help.code).toBe(0);
    for (const line of [/^ {2}3 {2}authentication/m, /^ {2}4 {2}not found/m, /^ {2}5 {2}rate limited/m, /^ {2}2 {2}usage error/m, /^ {2}1 {2}API error/m]) {
      expect(help.stdout).toMatch(line);
    }
    const none = await runCli([], { env: stack.env });
    expect(none.code).toBe(EXIT.USAGE);
    expect(none.stdout).toContain('Usage: gatehouse');
  });

  it("item 7: every subcommand's --help lists the global options; configure shows what it needs; keys revoke says what the 5 s are", async () => {
    for (const args of [['whoami'], ['keys', 'list'], ['keys', 'create'], ['call'], ['login'], ['configure']]) {
      const help = await runCli([...args, '--help'], { env: stack.env });
      expect(help.code).toBe(0);
      expect(help.stdout).toContain('Global Options:');
      for (const option of ['--profile <name>', '--api-url <url>', '--api-key <key>', '--use-admin-key', '--region <region>', '--json']) {
        expect(help.stdout, `${args.join(' ')} --help: ${option}`).toContain(option);
      }
    }
    const configure = await runCli(['configure', '--help'], { env: stack.env });
    expect(configure.stdout).toMatch(/^Usage: gatehouse configure --profile NAME --api-url URL \[--issuer URL --client-id ID\].*\[--region REGION\]/m);
    const words = (text: string) => text.replace(/\s+/g, ' ');
    expect(words(configure.stdout)).toContain('--profile NAME and --api-url URL are required, --region is used for SigV4');
    const revoke = await runCli(['keys', 'revoke', '--help'], { env: stack.env });
    expect(words(revoke.stdout)).toContain('revoke a key: requests made with it are refused within 5 s');
  });

  it('usage errors exit 2: unknown command, a malformed scope, bad method, missing profile', async () => {
    expect((await local(['frobnicate'])).code).toBe(EXIT.USAGE);
    const scope = await local(['keys', 'create', '--name', 'x', '--scopes', 'keys/everything']);
    expect(scope.code).toBe(EXIT.USAGE);
    expect(scope.stderr).toContain('"keys/everything" is not a scope name');
    // A well-formed scope the API does not declare is the API's to refuse (a team's API declares its own): it names
    // the scopes it does declare.
    const undeclared = await asAdmin(['keys', 'create', '--name', 'x', '--scopes', 'keys:everything']);
    expect(undeclared.code).toBe(1);
    expect(undeclared.stderr).toMatch(/not declared by this API: keys:everything \(declared: keys:read, keys:write/);
    expect((await local(['call', 'G E T', '/v1/whoami'])).code).toBe(EXIT.USAGE);
    expect((await local(['call', 'GET', 'v1/whoami'])).code).toBe(EXIT.USAGE);
    expect((await local(['call', 'POST', '/v1/items', '--data', '{not json'])).code).toBe(EXIT.USAGE);
    const missing = await runCli(['--profile', 'staging', 'whoami'], { env: stack.env });
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toContain('gatehouse configure --profile staging');
    const noStack = await local(['whoami'], { ...stack.env, GATEHOUSE_STATE_DIR: join(stack.configDir, 'nowhere') });
    expect(noStack.code).toBe(EXIT.USAGE);
    expect(noStack.stderr).toContain('npm start');
  });
});

describe('keys', () => {
  let keyId: string;
  let key: string;

  it('create prints the key once, with a warning on stderr', async () => {
    const { code, stdout, stderr } = await asAdmin(['keys', 'create', '--name', 'ci deploy', '--scopes', 'items:read,items:write', '--scopes', 'keys:read']);
    expect(code).toBe(0);
    key = KEY_PATTERN.exec(stdout)![0];
    keyId = /^id\s+(\w{12})$/m.exec(stdout)![1]!;
    expect(key).toContain(`_${keyId}_`);
    expect(stdout).toMatch(/^scopes\s+keys:read items:read items:write$/m);
    expect(stderr).toMatch(/only time the key is shown/);
  });

  it('list and get never show the plaintext', async () => {
    const list = await asAdmin(['keys', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${keyId}\\s+ci deploy\\s+active`, 'm'));
    expect(list.stdout).not.toMatch(KEY_PATTERN);
    const json = parseJson<{ keys: { id: string }[] }>((await asAdmin(['keys', 'list', '--json', '--all'])).stdout);
    expect(json.keys.map((k) => k.id)).toContain(keyId);
    const paged = await asAdmin(['keys', 'list', '--limit', '1']);
    expect(paged.stdout.trim().split('\n')).toHaveLength(2);
    expect(paged.stderr).toMatch(/--next-token \S+/);

    const get = await asAdmin(['keys', 'get', keyId]);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^status\s+active$/m);
    expect(get.stdout).toMatch(new RegExp(`^prefix\\s+gth_test_${keyId}$`, 'm'));
    expect(get.stdout).not.toMatch(KEY_PATTERN);
  });

  it('the new key calls the API (--api-key, then GATEHOUSE_API_KEY), and a missing scope says which; item 2: and that the key came from the environment', async () => {
    const whoami = await local(['whoami', '--api-key', key, '--json']);
    expect(parseJson(whoami.stdout)).toMatchObject({ principalId: `key:${keyId}`, keyId, scopes: ['keys:read', 'items:read', 'items:write'] });

    const env = { ...stack.env, GATEHOUSE_API_KEY: key };
    const created = await local(['call', 'POST', '/v1/items', '--data', '{"name":"first","data":{"n":1}}'], env);
    expect(created.code).toBe(0);
    expect(parseJson(created.stdout)).toMatchObject({ name: 'first', version: 1 });

    const denied = await local(['keys', 'create', '--name', 'nope', '--scopes', 'items:read'], env);
    expect(denied.code).toBe(EXIT.AUTH);
    expect(denied.stderr).toContain('Permission denied (403 PERMISSION_DENIED)');
    expect(denied.stderr).toContain('POST /v1/keys needs scope keys:write, which the API key from GATEHOUSE_API_KEY does not grant');
    expect(denied.stderr).toContain('GATEHOUSE_API_KEY is set in this shell and is used before your login by every command: `unset GATEHOUSE_API_KEY`');
    expect(denied.stderr).not.toContain(key);
    expect(denied.stderr).not.toContain(first12(key.split('_')[3] ?? 'x'));
  });

  it('rotate prints the successor once; with a grace period the old key keeps working', async () => {
    const { code, stdout, stderr } = await asAdmin(['keys', 'rotate', keyId, '--grace-period', '60']);
    expect(code).toBe(0);
    const successor = KEY_PATTERN.exec(stdout)![0];
    expect(successor).not.toBe(key);
    expect(stdout).toMatch(new RegExp(`^rotated from\\s+${keyId}$`, 'm'));
    expect(stdout).toMatch(/keeps working for 60 s/);
    expect(stderr).toMatch(/only time the key is shown/);
    expect((await local(['whoami', '--api-key', key])).code).toBe(0);
    expect((await local(['whoami', '--api-key', successor])).code).toBe(0);
  });

  it('revoke; then the key is refused (exit 3, what to do next, no key in the message)', async () => {
    const { code, stdout } = await asAdmin(['keys', 'revoke', keyId]);
    expect(code).toBe(0);
    expect(stdout).toBe(`Revoked key ${keyId}. Requests made with it are refused within 5 s.\n`);
    expect((await asAdmin(['keys', 'get', keyId, '--json'])).stdout).toContain('"status": "revoked"');
    // Refused within the 5 s revocation window (the authorizer's cache TTL is 3 s by default).
    let refused = await local(['whoami', '--api-key', key]);
    for (let i = 0; i < 20 && refused.code === 0; i++) {
      await new Promise((r) => setTimeout(r, 300));
      refused = await local(['whoami', '--api-key', key]);
    }
    expect(refused.code).toBe(EXIT.AUTH);
    expect(refused.stderr).toContain('Authentication failed (401 AUTHENTICATION_FAILED)');
    expect(refused.stderr).toContain('Run `gatehouse --profile local login` or pass --api-key');
    expect(refused.stderr).not.toContain(key);
  });

  it('not found exits 4 (get, revoke, rotate of an unknown id), --json errors are JSON on stderr', async () => {
    for (const args of [['get'], ['revoke'], ['rotate']]) {
      const result = await asAdmin(['keys', ...args, 'AAAAAAAAAAAA']);
      expect(result.code, result.stderr).toBe(EXIT.NOT_FOUND);
    }
    const json = await asAdmin(['keys', 'get', 'AAAAAAAAAAAA', '--json']);
    expect(json.stderr.trimEnd().split('\n').map((l) => parseJson(l))).toEqual([
      expect.objectContaining({ event: 'credential' }),
      { error: expect.objectContaining({ status: 404, code: 'NOT_FOUND', requestId: expect.any(String) }) },
    ]);
    const route = await asAdmin(['call', 'GET', '/v1/nothing-here']);
    expect(route.code).toBe(EXIT.NOT_FOUND);
    expect(route.stderr).toContain('There is no route GET /v1/nothing-here');
  });

  it('item 3: --json: stderr is JSON lines only (the credential, the new key\'s warning, retry notices, the error), each an event with its message', async () => {
    const created = await asAdmin(['keys', 'create', '--name', 'json lines', '--scopes', 'items:read', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const warnings = created.stderr.trimEnd().split('\n').map((l) => parseJson<Record<string, unknown>>(l));
    expect(warnings).toEqual([
      { event: 'credential', source: 'admin-key', message: expect.stringContaining("the local stack's admin key") },
      { event: 'warning', message: expect.stringContaining('only time the key is shown') },
    ]);

    const gateway = await scriptedServer((_req, res, i) => (i === 0 ? problem(res, 429, 'RATE_LIMITED', { 'retry-after': '0' }) : ok(res, { principalId: 'p', authMethod: 'api_key', tenant: 't', scopes: [] })));
    try {
      const retried = await runCli(['--api-url', gateway.url, '--api-key', stack.config.adminKey, 'whoami', '--json'], { env: stack.env });
      expect(retried.code, retried.stderr).toBe(0);
      expect(retried.stderr.trimEnd().split('\n').map((l) => parseJson<Record<string, unknown>>(l))).toEqual([
        { event: 'credential', source: 'api-key-flag', message: 'Using the API key from --api-key.' },
        { event: 'retry', message: 'GET /v1/whoami answered 429; retrying in 0.0 s…', attempt: 1, delayMs: 0 },
      ]);
    } finally {
      await gateway.close();
    }
    // Retries that end in a failure: the retry notices and then the error, every line JSON.
    const failing = await scriptedServer((_req, res) => problem(res, 503, 'SERVICE_UNAVAILABLE', { 'retry-after': '0' }));
    try {
      const failed = await runCli(['--api-url', failing.url, '--api-key', stack.config.adminKey, 'keys', 'list', '--json'], { env: stack.env });
      expect(failed.code).toBe(EXIT.ERROR);
      const lines = failed.stderr.trimEnd().split('\n').map((l) => parseJson<Record<string, unknown>>(l));
      expect(lines.map((l) => l.event ?? Object.keys(l)[0])).toEqual(['credential', 'retry', 'retry', 'retry', 'error']);
      expect(lines.at(-1)).toMatchObject({ error: { status: 503, code: 'SERVICE_UNAVAILABLE' } });
      expect(failed.stderr).not.toContain(stack.config.adminKey);
    } finally {
      await failing.close();
    }
  });

  it('--json: a usage error the option parser finds is a JSON line on stderr too (exit 2)', async () => {
    const { code, stdout, stderr } = await local(['keys', 'create', '--json', '--scopes', 'items:read']);
    expect(code).toBe(EXIT.USAGE);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n').map((l) => parseJson<Record<string, unknown>>(l))).toEqual([
      { error: { message: "error: required option '--name <name>' not specified", exitCode: EXIT.USAGE } },
    ]);
  });

  it('a validation error exits 1 and lists the fields', async () => {
    const { code, stderr } = await asAdmin(['call', 'POST', '/v1/keys', '--data', '{"name":"x","scopes":[],"extra":1}']);
    expect(code).toBe(EXIT.ERROR);
    expect(stderr).toContain('400 VALIDATION_ERROR');
    expect(stderr).toMatch(/^ {2}- scopes: /m);
  });
});

describe('call', () => {
  it('GET and PUT/DELETE with headers, -i, --data @file and --data - (stdin)', async () => {
    const created = parseJson<{ id: string; version: number }>((await asAdmin(['call', 'POST', '/v1/items', '--data', '{"name":"a"}'])).stdout);
    const dir = await tempDir();
    await writeFile(join(dir, 'item.json'), '{"name":"b","data":{"x":true}}');
    const put = await runCli(['--profile', 'local', '--use-admin-key', 'call', 'PUT', `/v1/items/${created.id}`, '--data', '@item.json', '-H', 'If-Match: "1"', '-i'], {
      env: stack.env,
      cwd: dir,
    });
    expect(put.code).toBe(0);
    expect(put.stdout).toMatch(/^HTTP 200$/m);
    expect(put.stdout).toMatch(/^etag: "2"$/m);
    const stale = await asAdmin(['call', 'PUT', `/v1/items/${created.id}`, '--data', '-', '-H', 'If-Match: "1"'], stack.env, '{"name":"c","data":{}}');
    expect(stale.code).toBe(EXIT.ERROR);
    expect(stale.stderr).toContain('412');
    const list = await asAdmin(['call', 'GET', '/v1/items?limit=1']);
    expect(parseJson<{ items: unknown[] }>(list.stdout).items).toHaveLength(1);
    const del = await asAdmin(['call', 'DELETE', `/v1/items/${created.id}`]);
    expect(del.code).toBe(0);
    expect(del.stderr).toBe("Using the local stack's admin key (--use-admin-key): tenant admin, every scope.\n204 (no content)\n");
  });

  it('refuses credentials in -H', async () => {
    const { code, stderr } = await local(['call', 'GET', '/v1/whoami', '-H', `Authorization: Bearer ${stack.config.adminKey}`]);
    expect(code).toBe(EXIT.USAGE);
    expect(stderr).not.toContain(stack.config.adminKey);
  });

  it('public routes need no credential', async () => {
    const env = { ...stack.env, GATEHOUSE_STATE_DIR: stack.env.GATEHOUSE_STATE_DIR! };
    const health = await runCli(['--api-url', stack.apiUrl, '--profile', 'adhoc', 'call', 'GET', '/health'], { env });
    expect(health.code).toBe(0);
    expect(parseJson(health.stdout)).toEqual({ status: 'ok' });
    const openapi = await runCli(['--api-url', stack.apiUrl, '--profile', 'adhoc', 'call', 'GET', '/openapi.json'], { env });
    expect(parseJson<{ openapi: string }>(openapi.stdout).openapi).toMatch(/^3\.1/);
    const whoami = await runCli(['--api-url', stack.apiUrl, '--profile', 'adhoc', 'whoami'], { env });
    expect(whoami.code).toBe(EXIT.AUTH);
    expect(whoami.stderr).toContain('No credential for profile adhoc: run `gatehouse --profile adhoc login`');
  });

  it('POST /v1/verify is signed with SigV4 (the local IAM user), with or without --sigv4', async () => {
    const created = await asAdmin(['keys', 'create', '--name', 'for verify', '--scopes', 'items:read', '--json']);
    const { id, key } = parseJson<{ id: string; key: string }>(created.stdout);
    const body = JSON.stringify({ key });
    const signed = await local(['call', 'POST', '/v1/verify', '--data', body, '--sigv4']);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toBe("Using AWS SigV4 with the local stack's IAM user.\n");
    expect(parseJson(signed.stdout)).toMatchObject({ valid: true, keyId: id, tenant: 'admin', scopes: ['items:read'] });
    // The last character changed (to one it is not: a fixed `x` would leave one key in 62 unchanged).
    const altered = `${key.slice(0, -1)}${key.endsWith('x') ? 'y' : 'x'}`;
    const auto = await local(['call', 'POST', '/v1/verify', '--data', JSON.stringify({ key: altered })]);
    expect(parseJson(auto.stdout)).toEqual({ valid: false });

    // A token route signed with SigV4 is refused by the authorizer: SigV4 is for IAM routes only.
    const wrong = await local(['call', 'GET', '/v1/whoami', '--sigv4']);
    expect(wrong.code).toBe(EXIT.AUTH);

    // Credentials the gateway does not know: 403 (invalid signature), exit 3.
    const bad = await runCli(['--api-url', stack.apiUrl, '--region', 'us-east-1', '--profile', 'adhoc', 'call', 'POST', '/v1/verify', '--data', body], {
      env: { ...stack.env, AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12', AWS_SECRET_ACCESS_KEY: 'wrong-secret-wrong-secret-wrong-secret00' },
    });
    expect(bad.code).toBe(EXIT.AUTH);
    expect(bad.stderr).toContain('403 PERMISSION_DENIED');
    expect(bad.stderr).not.toContain('wrong-secret');
  });
});

describe('login, whoami, refresh, logout', () => {
  it('login drives the real login form (the printed URL), stores tokens 0600 in a 0700 directory', async () => {
    const { code, stdout, stderr, page } = await loginWithCli(stack, 'alice');
    expect(code, stderr).toBe(0);
    expect(page.status).toBe(200);
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
    expect(page.html).toContain('Signed in to Gatehouse');
    expect(stdout).toBe('Logged in as alice (profile local).\n');
    expect(stderr).toContain('To sign in (profile local), open this URL in a browser:');
    expect(stderr).toMatch(/refreshed automatically/);

    const url = new URL(PRINTED_URL.exec(stderr)![1]!);
    expect(`${url.origin}${url.pathname}`).toBe(stack.config.oidc.authorizationEndpoint);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.get('client_id')).toBe(stack.config.oidc.loginClient.clientId);
    expect(url.searchParams.get('scope')?.split(' ')).toContain('openid');

    const file = join(stack.configDir, 'tokens', 'local.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(stack.configDir, 'tokens'))).mode & 0o777).toBe(0o700);
    expect((await stat(stack.configDir)).mode & 0o777).toBe(0o700);
    const tokens = parseJson<{ accessToken: string; refreshToken: string; username: string; expiresAt: number }>(await readFile(file, 'utf8'));
    expect(tokens).toMatchObject({ username: 'alice', issuer: stack.config.oidc.issuer, refreshToken: expect.any(String) });
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
  });

  it('whoami then uses the login (tenant = the person); item 6: alice (group admins) is an administrator', async () => {
    const { code, stdout } = await local(['whoami']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^auth method\s+jwt$/m);
    expect(stdout).toMatch(/^administrator\s+yes/m);
    expect(stdout).toMatch(/^credential\s+the login of alice \(profile local\)$/m);
    expect(stdout).toMatch(/^scopes\s+keys:read keys:write items:read items:write usage:read audit:read$/m);
    // --api-key still wins over the login.
    const withKey = await local(['whoami', '--api-key', stack.config.adminKey, '--json']);
    expect(parseJson(withKey.stdout)).toMatchObject({ authMethod: 'api_key', tenant: 'admin' });
    // Every other command says which credential it used.
    const list = await local(['keys', 'list']);
    expect(list.stderr).toBe('Using the login of alice (profile local).\n');
  });

  it('item 2: GATEHOUSE_API_KEY outranks the login: every command says so, and its 403 says how to unset it', async () => {
    const created = parseJson<{ key: string }>((await local(['keys', 'create', '--name', 'env key', '--scopes', 'items:read', '--json'])).stdout);
    const env = { ...stack.env, GATEHOUSE_API_KEY: created.key };
    const { code, stdout, stderr } = await local(['keys', 'list'], env);
    expect(code).toBe(EXIT.AUTH);
    expect(stdout).toBe('');
    const lines = stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('Using the API key from GATEHOUSE_API_KEY, not the login of alice (profile local): `unset GATEHOUSE_API_KEY` to use the login again.');
    expect(stderr).toContain('GET /v1/keys needs scope keys:read, which the API key from GATEHOUSE_API_KEY does not grant.');
    expect(stderr).toContain(
      'GATEHOUSE_API_KEY is set in this shell and is used before your login by every command: `unset GATEHOUSE_API_KEY` to use the login again ' +
        '(or `env -u GATEHOUSE_API_KEY gatehouse …` for one command).',
    );
    expect(stderr).not.toContain(created.key);
    // Unset, the login is back.
    expect((await local(['keys', 'list'])).code).toBe(EXIT.OK);
  });

  it('keys created with the login belong to the person', async () => {
    const me = parseJson<{ tenant: string }>((await local(['whoami', '--json'])).stdout);
    const created = parseJson<{ id: string; key: string }>((await local(['keys', 'create', '--name', 'alice key', '--scopes', 'items:read', '--json'])).stdout);
    const who = parseJson<{ tenant: string }>((await local(['whoami', '--api-key', created.key, '--json'])).stdout);
    expect(who.tenant).toBe(me.tenant);
    expect(who.tenant).not.toBe('admin');
  });

  it('refreshes an expired access token with the refresh token, and saves the new one (still 0600)', async () => {
    const file = join(stack.configDir, 'tokens', 'local.json');
    const before = parseJson<{ accessToken: string; refreshToken: string; expiresAt: number }>(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...before, expiresAt: Date.now() - 1000 }));
    await chmod(file, 0o644); // loosened by someone: written back 0600
    await new Promise((r) => setTimeout(r, 1100)); // a new token has a later iat
    const { code, stdout, stderr } = await local(['whoami']);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^credential\s+the login of alice/m);
    const after = parseJson<{ accessToken: string; refreshToken: string; expiresAt: number }>(await readFile(file, 'utf8'));
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(after.expiresAt).toBeGreaterThan(Date.now() + 30 * 60_000);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('a token the API refuses is refreshed once and the call repeated', async () => {
    const file = join(stack.configDir, 'tokens', 'local.json');
    const before = parseJson<{ accessToken: string }>(await readFile(file, 'utf8'));
    // Still "fresh" by its expiry, but not a token the authorizer accepts.
    await writeFile(file, JSON.stringify({ ...before, accessToken: `${before.accessToken.slice(0, -4)}AAAA` }), { mode: 0o600 });
    const { code, stderr } = await local(['whoami']);
    expect(code, stderr).toBe(0);
    expect(parseJson<{ accessToken: string }>(await readFile(file, 'utf8')).accessToken).not.toContain('AAAA');
  });

  it('an expired login whose refresh token is refused says to log in again (exit 3)', async () => {
    const file = join(stack.configDir, 'tokens', 'local.json');
    const saved = await readFile(file, 'utf8');
    await writeFile(file, JSON.stringify({ ...parseJson<object>(saved), expiresAt: 0, refreshToken: 'not-a-refresh-token' }), { mode: 0o600 });
    const { code, stderr } = await local(['whoami']);
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('run `gatehouse login`');
    await writeFile(file, saved, { mode: 0o600 });
  });

  it('item 1: a login from another issuer (the local stack restarted) is refused with the next step, never replaced by the admin key', async () => {
    const file = join(stack.configDir, 'tokens', 'local.json');
    const saved = await readFile(file, 'utf8');
    await writeFile(file, JSON.stringify({ ...parseJson<object>(saved), issuer: 'http://127.0.0.1:1' }), { mode: 0o600 });
    try {
      for (const args of [['whoami'], ['keys', 'list'], ['call', 'GET', '/v1/items']]) {
        const { code, stdout, stderr } = await local(args);
        expect(code, args.join(' ')).toBe(EXIT.AUTH);
        expect(stdout).toBe('');
        expect(stderr).toBe(
          'Error: The stored login of profile local is for another issuer or client (http://127.0.0.1:1): the local stack restarted, or the profile changed. ' +
            "Run `gatehouse --profile local login` again, or add --use-admin-key to act as the local stack's admin key instead.\n",
        );
      }
      // Asked for, the admin key is used, and said to be.
      const admin = await asAdmin(['whoami']);
      expect(admin.code).toBe(EXIT.OK);
      expect(admin.stdout).toMatch(/^credential\s+the local stack's admin key$/m);
    } finally {
      await writeFile(file, saved, { mode: 0o600 });
    }
  });

  it('bob (group users) cannot read the audit log: 403 names audit:read', async () => {
    const dir = await tempDir();
    const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: dir };
    const login = await loginWithCli(stack, 'bob', [], env);
    expect(login.code, login.stderr).toBe(0);
    const audit = await local(['call', 'GET', '/v1/audit'], env);
    expect(audit.code).toBe(EXIT.AUTH);
    expect(audit.stderr).toContain('GET /v1/audit needs scope audit:read, which the login of bob (profile local) does not grant');
    expect((await local(['whoami'], env)).stdout).toMatch(/^administrator\s+no$/m);
  });

  it('a wrong password keeps the form up; the CLI keeps waiting until the right one', async () => {
    const dir = await tempDir();
    const run = startCli(['--profile', 'local', 'login', '--no-browser'], { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir } });
    const url = await run.waitForStderr(PRINTED_URL);
    const browser = new TestBrowser();
    const wrong = await browser.signIn(url, 'alice', 'not-her-password');
    expect(wrong.status).toBe(401);
    const right = await browser.signIn(url, 'alice', stack.password('alice'));
    expect(right.status).toBe(200);
    expect((await run.done).code).toBe(0);
  });

  it('login opens the browser (openUrl) when allowed, and ignores redirects with the wrong state', async () => {
    const dir = await tempDir();
    let opened: Promise<{ status: number; html: string }> | undefined;
    let forged: Response | undefined;
    const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: dir, GATEHOUSE_NO_BROWSER: undefined };
    const result = await runCli(['--profile', 'local', 'login', '--json'], {
      env,
      openUrl: (url) => {
        const redirect = new URL(url).searchParams.get('redirect_uri')!;
        opened = (async () => {
          forged = await fetch(`${redirect}?code=forged&state=wrong`);
          return new TestBrowser().signIn(url, 'alice', stack.password('alice'));
        })();
      },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(forged?.status).toBe(400);
    expect(result.stderr).toContain('Opening your browser to sign in (profile local). If no browser opens, visit:');
    expect((await opened)?.status).toBe(200);
    expect(parseJson(result.stdout)).toMatchObject({ profile: 'local', username: 'alice', tokenFile: join(dir, 'tokens', 'local.json') });
  });

  it('an error redirect (access denied) ends the login with exit 3', async () => {
    const dir = await tempDir();
    const run = startCli(['--profile', 'local', 'login', '--no-browser'], { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir } });
    const url = new URL(await run.waitForStderr(PRINTED_URL));
    const callback = `${url.searchParams.get('redirect_uri')!}?error=access_denied&error_description=The+user+said+no&state=${url.searchParams.get('state')!}`;
    expect((await fetch(callback)).status).toBe(400);
    const { code, stderr } = await run.done;
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('Login failed: access_denied: The user said no');
    expect(existsSync(join(dir, 'tokens', 'local.json'))).toBe(false);
  });

  it('login times out when nobody signs in', async () => {
    const dir = await tempDir();
    const { code, stderr } = await runCli(['--profile', 'local', 'login', '--no-browser', '--timeout', '1'], { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir } });
    expect(code).toBe(EXIT.AUTH);
    expect(stderr).toContain('no sign-in within 1 s');
  });

  it('logout deletes the stored tokens; item 1: whoami then has no credential, and never becomes the admin', async () => {
    const out = await local(['logout']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Logged out of profile local');
    expect(existsSync(join(stack.configDir, 'tokens', 'local.json'))).toBe(false);
    expect((await local(['logout'])).stdout).toContain('Not logged in');
    const after = await local(['whoami']);
    expect(after.code).toBe(EXIT.AUTH);
    expect(after.stderr).toContain('No credential for profile local');
  });
});

describe('configure and other profiles', () => {
  it('configure saves a profile (0600) that login, whoami and call use; discovery finds the endpoints', async () => {
    const dir = await tempDir();
    const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: dir };
    const oidc = stack.config.oidc;
    const saved = await runCli(
      ['configure', '--profile', 'dev', '--api-url', stack.apiUrl, '--issuer', oidc.issuer, '--client-id', oidc.loginClient.clientId, '--region', 'us-east-1',
        '--scopes', 'openid gatehouse/keys:read gatehouse/items:read'],
      { env },
    );
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('Next: gatehouse --profile dev login');
    expect((await stat(join(dir, 'config.json'))).mode & 0o777).toBe(0o600);
    expect(parseJson(await readFile(join(dir, 'config.json'), 'utf8'))).toEqual({
      profiles: {
        dev: { apiUrl: stack.apiUrl, issuer: oidc.issuer, clientId: oidc.loginClient.clientId, region: 'us-east-1', scopes: ['openid', 'gatehouse/keys:read', 'gatehouse/items:read'] },
      },
    });

    const run = startCli(['--profile', 'dev', 'login', '--no-browser'], { env });
    const url = await run.waitForStderr(PRINTED_URL);
    expect(new URL(url).searchParams.get('scope')).toBe('openid gatehouse/keys:read gatehouse/items:read');
    await new TestBrowser().signIn(url, 'bob', stack.password('bob'));
    expect((await run.done).code).toBe(0);

    // The token's scopes narrow bob's group scopes.
    const me = await runCli(['whoami', '--json'], { env: { ...env, GATEHOUSE_PROFILE: 'dev' } });
    expect(parseJson(me.stdout)).toMatchObject({ authMethod: 'jwt', scopes: ['keys:read', 'items:read'] });
    const denied = await runCli(['--profile', 'dev', 'keys', 'create', '--name', 'x', '--scopes', 'items:read'], { env });
    expect(denied.code).toBe(EXIT.AUTH);
    expect(denied.stderr).toContain('needs scope keys:write');
  });

  it('configure for a Cognito pool of this repository: localhost callback, gatehouse/* scopes, endpoints from --oauth-base-url', async () => {
    const dir = await tempDir();
    const issuer = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123';
    const { code, stderr } = await runCli(
      ['configure', '--profile', 'prod', '--api-url', 'https://abc.execute-api.eu-west-1.amazonaws.com/prod', '--issuer', issuer, '--client-id', 'people',
        '--region', 'eu-west-1', '--oauth-base-url', 'https://gatehouse-1.auth.eu-west-1.amazoncognito.com/'],
      { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir } },
    );
    expect(code, stderr).toBe(0);
    const { profiles } = parseJson<{ profiles: Record<string, Record<string, unknown>> }>(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(profiles.prod).toMatchObject({
      issuer,
      callbackUrl: 'http://localhost:8976/callback',
      scopes: ['openid', ...ALL_SCOPES.map((s) => `gatehouse/${s}`)],
      authorizationEndpoint: 'https://gatehouse-1.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
      tokenEndpoint: 'https://gatehouse-1.auth.eu-west-1.amazoncognito.com/oauth2/token',
    });
    const bad = await runCli(['configure', '--profile', 'y', '--api-url', 'https://a.example', '--issuer', 'https://i.example', '--client-id', 'c', '--callback-url', 'http://example.com/cb'], {
      env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir },
    });
    expect(bad.code).toBe(EXIT.USAGE);
    expect(bad.stderr).toContain('callbackUrl');
  });

  it('login uses the profile callback URL (fixed port) and --port overrides its port', async () => {
    const dir = await tempDir();
    const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: dir };
    const oidc = stack.config.oidc;
    const probe = await scriptedServer(() => undefined);
    const freePort = new URL(probe.url).port;
    await probe.close();
    const callbackUrl = `http://127.0.0.1:${freePort}/callback`;
    await runCli(['configure', '--profile', 'fixed', '--api-url', stack.apiUrl, '--issuer', oidc.issuer, '--client-id', oidc.loginClient.clientId, '--callback-url', callbackUrl], { env });

    const fixed = startCli(['--profile', 'fixed', 'login', '--no-browser'], { env });
    const url = new URL(await fixed.waitForStderr(PRINTED_URL));
    expect(url.searchParams.get('redirect_uri')).toBe(callbackUrl);
    const page = await new TestBrowser().signIn(url.href, 'alice', stack.password('alice'));
    expect(page.url.startsWith(`${callbackUrl}?`)).toBe(true);
    expect((await fixed.done).code).toBe(0);

    const other = startCli(['--profile', 'fixed', 'login', '--no-browser', '--port', '0'], { env });
    const otherUrl = new URL(await other.waitForStderr(PRINTED_URL));
    expect(otherUrl.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(otherUrl.searchParams.get('redirect_uri')).not.toBe(callbackUrl);
    await new TestBrowser().signIn(otherUrl.href, 'alice', stack.password('alice'));
    expect((await other.done).code).toBe(0);
  });

  it('refuses a config directory other users can enter (and never chmods it)', async () => {
    const dir = await tempDir();
    await chmod(dir, 0o755);
    const { code, stderr } = await runCli(['configure', '--profile', 'x', '--api-url', 'https://a.example'], { env: { ...stack.env, GATEHOUSE_CONFIG_DIR: dir } });
    expect(code).toBe(EXIT.USAGE);
    expect(stderr).toContain(`run \`chmod 700 ${dir}\``);
    expect((await stat(dir)).mode & 0o777).toBe(0o755);
  });

  it('configure validates its input and refuses the name "local"', async () => {
    const env = { ...stack.env, GATEHOUSE_CONFIG_DIR: await tempDir() };
    expect((await runCli(['configure', '--profile', 'x'], { env })).code).toBe(EXIT.USAGE);
    expect((await runCli(['configure', '--profile', 'x', '--api-url', 'ftp://example.com'], { env })).code).toBe(EXIT.USAGE);
    expect((await runCli(['configure', '--profile', 'x', '--api-url', 'https://a.example', '--issuer', 'https://i.example'], { env })).code).toBe(EXIT.USAGE);
    expect((await runCli(['configure', '--profile', 'local', '--api-url', 'https://a.example'], { env })).code).toBe(EXIT.USAGE);
    expect((await runCli(['configure', '--profile', '../etc', '--api-url', 'https://a.example'], { env })).code).toBe(EXIT.USAGE);
    expect((await runCli(['configure', '--profile', 'x', '--api-url', 'https://a.example', '--region', 'nowhere'], { env })).code).toBe(EXIT.USAGE);
  });
});

describe('rate limits, outages and unreachable APIs', () => {
  it('429 with a Retry-After beyond the retry budget: exit 5 and "retry after N s", one attempt', async () => {
    const gateway = await scriptedServer((_req, res) => problem(res, 429, 'RATE_LIMITED', { 'retry-after': '120' }));
    try {
      const { code, stderr } = await runCli(['--api-url', gateway.url, '--api-key', stack.config.adminKey, 'whoami'], { env: stack.env });
      expect(code).toBe(EXIT.RATE_LIMITED);
      expect(stderr).toContain('Rate limited: retry after 120 s.');
      expect(stderr).not.toContain(stack.config.adminKey);
      expect(gateway.requests).toHaveLength(1);
    } finally {
      await gateway.close();
    }
  });

  it('429 then 200: the CLI waits as told and says so', async () => {
    const gateway = await scriptedServer((_req, res, i) => (i === 0 ? problem(res, 429, 'RATE_LIMITED', { 'retry-after': '1' }) : ok(res, { principalId: 'p', authMethod: 'api_key', tenant: 't', scopes: [] })));
    try {
      const started = Date.now();
      const { code, stderr } = await runCli(['--api-url', gateway.url, '--api-key', stack.config.adminKey, 'whoami'], { env: stack.env });
      expect(code).toBe(0);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(stderr).toContain('GET /v1/whoami answered 429; retrying in 1.0 s');
    } finally {
      await gateway.close();
    }
  });

  it('503 to keys create (POST) is not retried: one attempt, exit 1', async () => {
    const gateway = await scriptedServer((_req, res) => problem(res, 503, 'SERVICE_UNAVAILABLE', { 'retry-after': '0' }));
    try {
      const { code, stderr } = await runCli(['--api-url', gateway.url, '--api-key', stack.config.adminKey, 'keys', 'create', '--name', 'x', '--scopes', 'items:read'], {
        env: stack.env,
      });
      expect(code).toBe(EXIT.ERROR);
      expect(stderr).toContain('503 SERVICE_UNAVAILABLE');
      expect(gateway.requests.map((r) => r.method)).toEqual(['POST']);
    } finally {
      await gateway.close();
    }
  });

  it('an unreachable API exits 1 with a hint, without the key', async () => {
    const gateway = await scriptedServer(() => undefined);
    const url = gateway.url;
    await gateway.close();
    const { code, stderr } = await runCli(['--api-url', url, '--api-key', stack.config.adminKey, 'whoami'], { env: stack.env, retry: { baseDelayMs: 1 } });
    expect(code).toBe(EXIT.ERROR);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).toContain('Is the API running');
    expect(stderr).not.toContain(stack.config.adminKey);
  });
});
