/**
 * Start-up and shutdown of the local stack: in-process (startLocalStack) and through the real entry point
 * (`node --import tsx local/main.ts`, what `npm start` runs) as a child process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalConfig } from '../../local/state.js';
import { bearer, jsonBody, personTokens, refused, startTestStack, tempDir } from './support.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dirs: string[] = [];

async function freshDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('startLocalStack', () => {
  it('writes local.json in the CONTRACT §7 shape with mode 0600, answers /health, and close() leaves nothing listening', async () => {
    const stateDir = await freshDir();
    const stack = await startTestStack({ stateDir });
    try {
      expect((await stack.api('/health')).status).toBe(200);
      const file = join(stateDir, 'local.json');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(stateDir)).mode & 0o077).toBe(0);
      const written = JSON.parse(await readFile(file, 'utf8')) as LocalConfig;
      expect(written).toEqual(stack.config);
      expect(Object.keys(written)).toEqual(['apiUrl', 'adminKey', 'oidc', 'iam']);
      expect(Object.keys(written.oidc)).toEqual(['issuer', 'tokenEndpoint', 'authorizationEndpoint', 'machineClient', 'loginClient', 'users']);
      expect(Object.keys(written.oidc.machineClient)).toEqual(['clientId', 'clientSecret', 'scopes']);
      expect(written.oidc.loginClient).toEqual({ clientId: expect.any(String), redirectUris: ['http://127.0.0.1/callback'] });
      expect(written.oidc.users.map((u) => [u.username, u.groups, Object.keys(u)])).toEqual([
        ['alice', ['admins'], ['username', 'password', 'groups']],
        ['bob', ['users'], ['username', 'password', 'groups']],
      ]);
      expect(written.adminKey).toMatch(/^gth_test_/);
      expect(written.apiUrl).toBe(stack.apiUrl);
      expect(written.iam).toEqual({ region: 'us-east-1', accessKeyId: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/), secretAccessKey: expect.any(String) });
    } finally {
      await stack.close();
      await stack.close(); // idempotent
    }
    for (const url of Object.values(stack.endpoints)) expect(await refused(url), url).toBe(true);
  });

  it('item 8: a state directory inside a git repository never shows up in git status (it writes its own .gitignore)', async () => {
    const repo = await freshDir();
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: repo } });
    git('init', '--quiet');
    const stateDir = join(repo, 'my-state');
    const stack = await startTestStack({ stateDir, persist: true });
    try {
      expect((await stat(join(stateDir, 'local.json'))).isFile()).toBe(true);
      expect(git('status', '--porcelain', '--untracked-files=all')).toBe('');
      expect(git('check-ignore', join(stateDir, 'local.json')).trim()).toBe(join(stateDir, 'local.json'));
    } finally {
      await stack.close();
    }
  });

  it('--persist keeps the admin key, data, passwords, tenants and earlier tokens across a restart', async () => {
    const stateDir = await freshDir();
    const first = await startTestStack({ stateDir, persist: true });
    let itemId: string;
    let token: string;
    try {
      token = (await personTokens(first.config, 'alice')).accessToken;
      const res = await first.api('/v1/items', { ...jsonBody({ name: 'kept' }), headers: { ...bearer(token), 'content-type': 'application/json' } });
      expect(res.status).toBe(201);
      itemId = ((await res.json()) as { id: string }).id;
    } finally {
      await first.close();
    }
    expect((await stat(join(stateDir, 'state.json'))).mode & 0o777).toBe(0o600);

    const second = await startTestStack({ stateDir, persist: true });
    try {
      expect(second.config.adminKey).toBe(first.config.adminKey);
      expect(second.config.oidc.users).toEqual(first.config.oidc.users);
      expect(second.config.oidc.machineClient).toEqual(first.config.oidc.machineClient);
      expect(second.config.iam).toEqual(first.config.iam);
      expect(second.config.oidc.issuer).toBe(first.config.oidc.issuer);
      expect((await second.api('/v1/whoami', { headers: bearer(second.config.adminKey) })).status).toBe(200);
      // The token from before the restart still verifies (same issuer, same signing key), and alice's tenant kept her item.
      expect((await second.api(`/v1/items/${itemId}`, { headers: bearer(token) })).status).toBe(200);
      const fresh = (await personTokens(second.config, 'alice')).accessToken;
      expect((await second.api(`/v1/items/${itemId}`, { headers: bearer(fresh) })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it('without --persist every start is fresh: a new admin key', async () => {
    const stateDir = await freshDir();
    const a = await startTestStack({ stateDir });
    await a.close();
    const b = await startTestStack({ stateDir });
    await b.close();
    expect(b.config.adminKey).not.toBe(a.config.adminKey);
  });

  it('refuses a bad setting with the variable name and the expected form, before opening anything', async () => {
    await expect(startTestStack({ env: { GATEHOUSE_RATE_LIMIT_PER_IP: '5' } })).rejects.toThrow(/GATEHOUSE_RATE_LIMIT_PER_IP.*≥ 10/);
    await expect(startTestStack({ env: { GATEHOUSE_CORS_ORIGINS: 'https://a.example/' } })).rejects.toThrow(/GATEHOUSE_CORS_ORIGINS/);
  });
});

// -------------------------------------------------------------------------------------------------------------
// The real entry point as a child process
// -------------------------------------------------------------------------------------------------------------

interface Child {
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  kill(signal: NodeJS.Signals): void;
  output(): { stdout: string; stderr: string };
}

function spawnMain(env: Record<string, string>, args: string[] = ['--quiet'], viaNpm = false): Child {
  const [command, argv] = viaNpm ? ['npm', ['start', '--', ...args]] : [process.execPath, ['--import', 'tsx', 'local/main.ts', ...args]];
  const child = spawn(command, argv, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return {
    exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
    kill: (signal) => child.kill(signal),
    output: () => ({ stdout, stderr }),
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('npm start (node --import tsx local/main.ts)', () => {
  it('serves /health 200 once ready, prints the banner, and exits 0 on SIGTERM with nothing left listening', async () => {
    const stateDir = await freshDir();
    const started = Date.now();
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: stateDir });
    try {
      const config = await waitFor(
        'local.json',
        async () => JSON.parse(await readFile(join(stateDir, 'local.json'), 'utf8')) as LocalConfig,
        20_000,
      );
      await waitFor('GET /health 200', async () => ((await fetch(`${config.apiUrl}/health`)).status === 200 ? true : undefined), 10_000);
      console.log(`npm start entry point: /health 200 after ${Date.now() - started} ms (process spawn included)`);
      await waitFor('banner', () => Promise.resolve(child.output().stdout.includes(config.adminKey) ? true : undefined), 5_000);
      expect(child.output().stdout).toContain(config.apiUrl);

      child.kill('SIGTERM');
      const [code, signal] = await child.exited;
      expect({ code, signal }).toEqual({ code: 0, signal: null });
      expect(child.output().stderr).not.toMatch(/"level":"(ERROR|CRITICAL)"|gatehouse: failed/);
      expect(child.output().stdout).toContain('gatehouse: stopped');
      expect(await refused(config.apiUrl)).toBe(true);
      expect(await refused(config.oidc.issuer)).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('`npm start` itself stops everything when npm is sent SIGTERM (its shell does not pass the signal on)', async () => {
    const stateDir = await freshDir();
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: stateDir }, ['--quiet'], true);
    try {
      const config = await waitFor(
        'local.json',
        async () => JSON.parse(await readFile(join(stateDir, 'local.json'), 'utf8')) as LocalConfig,
        20_000,
      );
      await waitFor('GET /health 200', async () => ((await fetch(`${config.apiUrl}/health`)).status === 200 ? true : undefined), 10_000);
      child.kill('SIGTERM');
      await child.exited;
      await waitFor('the API port to close', async () => ((await refused(config.apiUrl)) ? true : undefined), 5_000);
      await waitFor('the OIDC port to close', async () => ((await refused(config.oidc.issuer)) ? true : undefined), 5_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a port already in use is a one-line error naming the fix, and a non-zero exit', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const child = spawnMain({ PORT: String(port), GATEHOUSE_STATE_DIR: await freshDir() });
      const [code] = await child.exited;
      const { stderr } = child.output();
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toContain(`port ${port} is already in use`);
      expect(stderr).toMatch(/PORT=\d+ npm start/);
    } finally {
      blocker.close();
    }
  });

  it('a bad setting is a one-line error naming the variable, and a non-zero exit', async () => {
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: await freshDir(), GATEHOUSE_AUTH_MODE: 'sometimes' });
    const [code] = await child.exited;
    const { stderr } = child.output();
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('GATEHOUSE_AUTH_MODE');
  });
});
