/**
 * `npm start -- --app <file>` (local/main.ts): the local stack serving a team's app declaration, loaded from its
 * module (default export, or `app`), with Lambda entries resolved against the file's folder. The real entry point as
 * a child process, and the loader in-process.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { AppFileError, loadAppFile } from '../../local/app-file.js';
import type { LocalConfig } from '../../local/state.js';
import { bearer, tempDir } from './support.js';
import { startEchoUpstream } from './upstream.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function freshDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir;
}

function spawnMain(env: Record<string, string>, args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', ...args], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return {
    exited: once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>,
    kill: (signal: NodeJS.Signals) => child.kill(signal),
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

describe('loadAppFile (what --app loads)', () => {
  it('takes the default export, and the folder of the file as the base of Lambda entries', async () => {
    const loaded = await loadAppFile('test/local/fixtures/team-app.ts', REPO_ROOT);
    expect(loaded.app.title).toBe('Fixture team API');
    expect(loaded.baseDir).toBe(FIXTURES.replace(/\/$/, ''));
    expect(loaded.app.api.routes.map((r) => `${r.method} ${r.path}`)).toContain('GET /gatehouse/v1/whoami');
  });

  it('takes an export named app', async () => {
    expect((await loadAppFile(join(FIXTURES, 'named-app.ts'))).app.title).toBe('Fixture team API');
  });

  it('refuses a missing file and a module without an app, naming the file and the fix', async () => {
    await expect(loadAppFile('test/local/fixtures/no-such-app.ts', REPO_ROOT)).rejects.toThrow(AppFileError);
    await expect(loadAppFile('test/local/fixtures/no-such-app.ts', REPO_ROOT)).rejects.toThrow(/no-such-app\.ts/);
    await expect(loadAppFile(join(FIXTURES, 'echo-lambda.ts'))).rejects.toThrow(/defineApp/);
  });
});

describe('npm start -- --app <file>', () => {
  it("serves the team's routes and Gatehouse's under its mount, and the banner lists both", async () => {
    const upstream = await startEchoUpstream();
    const stateDir = await freshDir();
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: stateDir, FIXTURE_UPSTREAM_URL: `${upstream.url}/svc` }, ['--quiet', '--app', 'test/local/fixtures/team-app.ts']);
    try {
      const config = await waitFor('local.json', async () => JSON.parse(await readFile(join(stateDir, 'local.json'), 'utf8')) as LocalConfig, 20_000);
      await waitFor('GET /gatehouse/health 200', async () => ((await fetch(`${config.apiUrl}/gatehouse/health`)).status === 200 ? true : undefined), 10_000);
      await waitFor('banner', () => Promise.resolve(child.output().stdout.includes(config.adminKey) ? true : undefined), 5_000);
      const { stdout } = child.output();
      expect(stdout).toContain('Fixture team API');
      expect(stdout).toMatch(/GET\s+\/reports\/\{reportId\}\s+→ reports \(lambda\)\s+scope reports:read/);
      expect(stdout).toMatch(/GET\s+\/inventory\/\{sku\}\s+→ inventory \(http .*\/svc\)\s+scope inventory:read/);
      expect(stdout).toContain(`Gatehouse      ${config.apiUrl}/gatehouse`);
      expect(stdout).toContain(`${config.apiUrl}/gatehouse/v1/whoami`);
      expect(config.oidc.machineClient.scopes).toEqual(expect.arrayContaining(['gatehouse/reports:read', 'gatehouse/inventory:read', 'gatehouse/keys:write']));

      const report = await fetch(`${config.apiUrl}/reports/r-1`, { headers: bearer(config.adminKey) });
      expect(report.status).toBe(200);
      expect(((await report.json()) as { authorizer: { tenant: string } }).authorizer.tenant).toBe('admin');
      expect((await fetch(`${config.apiUrl}/inventory/sku-1`, { headers: bearer(config.adminKey) })).status).toBe(201);
      expect(upstream.received.map((r) => r.url)).toEqual(['/svc/inventory/sku-1']);
      expect(upstream.headerValues(upstream.received[0]!, 'x-gatehouse-tenant')).toEqual(['admin']);
      expect((await fetch(`${config.apiUrl}/reports/r-1`)).status).toBe(401);

      child.kill('SIGTERM');
      const [code] = await child.exited;
      expect(code).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await upstream.close();
    }
  });

  it('an --app file that is not an app is a one-line error and a non-zero exit, before anything starts', async () => {
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: await freshDir() }, ['--app', 'test/local/fixtures/echo-lambda.ts']);
    const [code] = await child.exited;
    const { stderr } = child.output();
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('echo-lambda.ts');
    expect(stderr).toContain('defineApp');
  });

  it('--app without a file is a usage error', async () => {
    const child = spawnMain({ PORT: '0', GATEHOUSE_STATE_DIR: await freshDir() }, ['--app']);
    const [code] = await child.exited;
    expect(code).toBe(1);
    expect(child.output().stderr).toContain('--app needs a file');
  });
});
