/**
 * Issue 12 (B), the package as a team receives it: `npm pack` (prepack builds dist/), the tarball installed into an
 * empty folder with examples/existing-api and its dependencies, and there, against the INSTALLED package only:
 * - the example type-checks, declarations included (`tsc --noEmit --skipLibCheck false`), and so does a file importing
 *   all five entry points;
 * - `cdk synth` with bundling ON: NodejsFunction bundles Gatehouse's compiled Lambda entries (dist/lambdas/**\/*.js)
 *   and the team's own function with the team's esbuild, from the team's project root and lockfile, and cdk-nag
 *   (registered by the example's bin/app.ts) finds nothing;
 * - the `gatehouse` bin runs from dist (no tsx, no sources), and `gatehouse-local --app gatehouse.app.ts` serves the
 *   example (401 / 200, the HTTP target proxied to a local echo server), and says what to install when its optional
 *   peers are missing.
 *
 * Slow (about a minute: a build, an install from the npm cache, a bundled synth), so it runs only with
 * GATEHOUSE_PACK_TEST=1 or CI=true. No assertion is about time; the steps' durations are printed.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_DIR, app as REPORTS_APP } from '../../examples/existing-api/gatehouse.app.js';
import { encodeApiDefinition } from '../../lambdas/core/api-definition.js';
import { NO_ENVIRONMENT_CREDENTIALS } from '../../lambdas/core/lambda-credentials.js';
import { LAMBDA_BUNDLE_ALIASES } from '../../infra/bundle.js';
import { REPO_ROOT } from '../../infra/function.js';
import { startEchoUpstream, type EchoUpstream } from '../local/upstream.js';

const ENABLED = process.env.GATEHOUSE_PACK_TEST === '1' || process.env.CI === 'true';
const STEP_TIMEOUT_MS = 120_000;

/** The example as a team has it: its sources and configuration, not what a run left behind. */
const EXAMPLE_FILES = ['bin', 'lib', 'src', 'gatehouse.app.ts', 'package.json', 'tsconfig.json', 'cdk.json'];

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without what an outer `npm test` sets (npm_config_*, npm_package_*…), which would steer npm here. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key) && key !== 'INIT_CWD') env[key] = value;
  return { ...env, CDK_DISABLE_CLI_TELEMETRY: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...extra };
}

function run(command: string, args: readonly string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: cleanEnv(env), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const durations: Record<string, number> = {};
async function timed<T>(step: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await action();
  } finally {
    durations[step] = Math.round(performance.now() - started);
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

/** The Lambda entries the constructs name (`entry: 'lambdas/…'`), read from infra's sources. */
function infraLambdaEntries(): string[] {
  const entries = new Set<string>();
  for (const file of filesUnder(join(REPO_ROOT, 'infra')).filter((f) => f.endsWith('.ts'))) {
    for (const match of readFileSync(join(REPO_ROOT, 'infra', file), 'utf8').matchAll(/entry: '(lambdas\/[^']+)'/g)) entries.add(match[1]!);
  }
  return [...entries];
}

describe.skipIf(!ENABLED)('the packed package in a team project (slow: runs with GATEHOUSE_PACK_TEST=1 or CI=true)', () => {
  let work: string;
  let project: string;
  let tarball: string;
  let packed: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'gatehouse-pack-'));
    project = join(work, 'reports-service');
    const pack = await timed('npm pack (prepack: build)', () => run('npm', ['pack', '--pack-destination', work, '--json'], REPO_ROOT));
    expect(pack.code, pack.stderr).toBe(0);
    const [result] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, result!.filename);
    packed = result!.files.map((f) => f.path);

    for (const name of EXAMPLE_FILES) cpSync(join(APP_DIR, name), join(project, name), { recursive: true });
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    manifest.dependencies.gatehouse = `file:${tarball}`;
    writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const install = await timed('npm install', () => run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], project));
    expect(install.code, install.stderr).toBe(0);
  }, STEP_TIMEOUT_MS);

  afterAll(() => {
    // Measured, not asserted (no timed assertions).
    console.log(`pack test steps (ms): ${JSON.stringify(durations)}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('the tarball holds compiled entry points and bins, every Lambda entry infra bundles, and no TypeScript source', () => {
    const inPackage = new Set(packed);
    for (const path of ['dist/lambdas/index.js', 'dist/lambdas/index.d.ts', 'dist/infra/index.js', 'dist/lambdas/runtime/index.js', 'dist/client/index.js', 'dist/local/stack.js', 'dist/local/main.js', 'client/bin/gatehouse.js', 'local/bin/gatehouse-local.js']) {
      expect(inPackage.has(path), path).toBe(true);
    }
    const entries = infraLambdaEntries();
    expect(entries).toEqual(expect.arrayContaining(['lambdas/authorizer/handler', 'lambdas/bootstrap/handler', 'lambdas/jwks-mirror/handler']));
    for (const entry of entries) expect(inPackage.has(`dist/${entry}.js`), entry).toBe(true);
    // The files infra's esbuild alias substitutes into every Gatehouse bundle (issue 16).
    for (const standIn of Object.values(LAMBDA_BUNDLE_ALIASES)) expect(inPackage.has(`dist/${standIn}.js`), standIn).toBe(true);
    const groups = readdirSync(join(REPO_ROOT, 'lambdas', 'api'), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, 'lambdas', 'api', d.name, 'index.ts')));
    expect(groups.length).toBeGreaterThan(0);
    for (const group of groups) expect(inPackage.has(`dist/lambdas/api/${group.name}/index.js`), group.name).toBe(true);
    expect(packed.filter((p) => /\.[cm]?ts$/.test(p) && !p.endsWith('.d.ts'))).toEqual([]);
    expect(packed.filter((p) => /(^|\/)(test|bench|examples)\/|\.gatehouse|cdk\.out/.test(p))).toEqual([]);
  });

  it('the installed package holds nothing shaped like a secret (keys, AWS access keys, private keys)', () => {
    const root = join(project, 'node_modules', 'gatehouse');
    const shapes = [/gth_(live|test)_[0-9A-Za-z]{12}_[0-9A-Za-z]{40,}/, /AKIA[0-9A-Z]{16}/, /-----BEGIN [A-Z ]*PRIVATE KEY-----/];
    for (const file of filesUnder(root)) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const shape of shapes) expect(shape.test(text), `${file} matches ${shape}`).toBe(false);
    }
  });

  it('the example type-checks against the installed package, its declarations included, as does an import of every entry point', async () => {
    const entryPoints = ['gatehouse', 'gatehouse/cdk', 'gatehouse/runtime', 'gatehouse/client', 'gatehouse/local'];
    writeFileSync(
      join(project, 'src', 'entry-points.ts'),
      `${entryPoints.map((e, i) => `import * as entry${i} from '${e}';`).join('\n')}\nexport const entryPoints = [${entryPoints.map((_, i) => `entry${i}`).join(', ')}];\n`,
    );
    const tsc = await timed('tsc --noEmit', () => run(join(project, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--skipLibCheck', 'false'], project));
    expect(tsc.code, tsc.stdout + tsc.stderr).toBe(0);
  }, STEP_TIMEOUT_MS);

  it("cdk synth bundles Gatehouse's compiled entries and the team's function with the team's esbuild, and cdk-nag finds nothing", async () => {
    const synth = await timed('cdk synth (bundling)', () => run(join(project, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--no-notices'], project));
    expect(synth.code, synth.stdout + synth.stderr).toBe(0);
    const out = join(project, 'cdk.out');
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);

    const template = JSON.parse(readFileSync(join(out, 'ReportsService.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { Description?: string }; Metadata?: Record<string, string> }>;
    };
    const bundles = Object.values(template.Resources)
      .filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description?.startsWith('Gatehouse'))
      .map((r) => ({ description: r.Properties.Description!, code: readFileSync(join(out, r.Metadata!['aws:asset:path']!, 'index.mjs'), 'utf8') }));
    // Authorizer, bootstrap, JWKS mirror, one function per mounted handler group, and the team's reports function.
    expect(bundles.length).toBeGreaterThanOrEqual(4 + 3);
    const authorizer = bundles.find((b) => b.description.startsWith('Gatehouse authorizer'))!;
    expect(authorizer.code).toContain(encodeApiDefinition(REPORTS_APP.api.definition));
    expect(authorizer.code).not.toContain('process.env.GATEHOUSE_API_DEFINITION');
    // The environment credentials stand in for the SDK's default chain, resolved from the installed package (issue 16).
    expect(authorizer.code).toContain(NO_ENVIRONMENT_CREDENTIALS);
    expect(authorizer.code).not.toContain('defaultProvider::fromSSO');
    const reports = bundles.find((b) => b.description.startsWith('Gatehouse target reports'))!;
    expect(reports.code).toContain('r-2026-q3');
  }, STEP_TIMEOUT_MS);

  it('the installed gatehouse bin runs the compiled client (no sources in the package)', async () => {
    expect(existsSync(join(project, 'node_modules', 'gatehouse', 'client', 'run.ts'))).toBe(false);
    const help = await run(join(project, 'node_modules', '.bin', 'gatehouse'), ['--help'], project);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: gatehouse');
  });

  describe('gatehouse-local from the installed package', () => {
    let upstream: EchoUpstream;
    let child: ChildProcess | undefined;
    let stderr = '';

    beforeAll(async () => {
      upstream = await startEchoUpstream();
    });
    afterAll(async () => {
      child?.kill('SIGKILL');
      await upstream?.close();
    });

    it('serves the example declaration: 401 without a credential, 200 from the Lambda target, the HTTP target proxied', async () => {
      const stateDir = join(work, 'state');
      child = spawn(join(project, 'node_modules', '.bin', 'gatehouse-local'), ['--app', 'gatehouse.app.ts', '--quiet'], {
        cwd: project,
        env: cleanEnv({ PORT: '0', GATEHOUSE_STATE_DIR: stateDir, WEATHER_SERVICE_URL: upstream.url }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
      const localJson = join(stateDir, 'local.json');
      await timed('gatehouse-local ready', async () => {
        for (let i = 0; i < 300 && !existsSync(localJson) && child!.exitCode === null; i += 1) await new Promise((r) => setTimeout(r, 100));
      });
      expect(existsSync(localJson), stderr).toBe(true);
      const config = JSON.parse(readFileSync(localJson, 'utf8')) as { apiUrl: string; adminKey: string };
      const api = config.apiUrl.replace('localhost', '127.0.0.1');

      expect((await fetch(`${api}/reports`)).status).toBe(401);
      const created = await fetch(`${api}/gatehouse/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${config.adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'pack test', scopes: ['reports:read', 'weather:read'] }),
      });
      expect(created.status).toBe(201);
      const { key } = (await created.json()) as { key: string };
      const reports = await fetch(`${api}/reports`, { headers: { authorization: `Bearer ${key}` } });
      expect(reports.status).toBe(200);
      expect(await reports.json()).toMatchObject({ reports: [{ id: 'r-2026-q3' }, { id: 'r-2026-q4' }] });
      const weather = await fetch(`${api}/weather/oslo`, { headers: { 'x-api-key': key } });
      expect(weather.status).toBe(201);
      expect(upstream.received.at(-1)?.url).toBe('/weather/oslo');

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    }, STEP_TIMEOUT_MS);

    it('without its optional peers (dynalite, oidc-provider) says what to install, and exits 1', async () => {
      const uninstall = await timed('npm uninstall', () => run('npm', ['uninstall', 'dynalite', 'oidc-provider', '--prefer-offline', '--no-audit', '--no-fund'], project));
      expect(uninstall.code, uninstall.stderr).toBe(0);
      const local = await run(join(project, 'node_modules', '.bin', 'gatehouse-local'), ['--app', 'gatehouse.app.ts'], project, { PORT: '0', GATEHOUSE_STATE_DIR: join(work, 'state-missing') });
      expect(local.code).toBe(1);
      expect(local.stderr).toContain('the local stack needs dynalite and oidc-provider');
      expect(local.stderr).toMatch(/npm install --save-dev dynalite@"\^4\.\d+\.\d+" oidc-provider@"\^9\.\d+\.\d+"/);
      expect(existsSync(join(work, 'state-missing'))).toBe(false);
    }, STEP_TIMEOUT_MS);
  });
});
