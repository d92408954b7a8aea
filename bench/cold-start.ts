/**
 * Part 2 — cold start: every Lambda function infra deploys (bench/deployment.ts: the entries, esbuild `define` and
 * `alias` of the synthesised app) bundled with NodejsFunction's esbuild arguments (infra/function.ts), its size and
 * gzip size, and the time to import it in a fresh node process over a bare `node -e ''` — wall time (the target) and
 * the child's CPU time (less disturbed by other work on a shared machine).
 *
 * Beside them: what-if variants of the authorizer (the SDK's whole default credential chain, as before issue 16; the
 * SDK left to the Lambda runtime), its first decision in a fresh process (import, then the handler's init — settings,
 * the bundled API checked, clients built — and one decision that needs no I/O: a request without a credential), and
 * floor probes: what importing an empty module, the Node built-ins the SDK loads, and the SDK clients alone cost.
 *
 * Children run with NODE_EXTRA_CA_CERTS and NODE_OPTIONS removed from their environment: the first adds ~50 ms of
 * certificate loading to every node start on machines that set it, which would drown the differences measured here.
 * Standalone: `npx tsx bench/cold-start.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { lambdaBundleAliases } from '../infra/function.js';
import { synthDeployment, type DeployedFunction } from './deployment.js';
import { quantile } from './measure.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The same banner infra/function.ts adds (ESM bundles with CommonJS dependencies need a `require`). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);";

/**
 * NodejsFunction's esbuild arguments for infra/function.ts's `bundling` (aws-cdk-lib's Bundling.buildEsbuildArgs):
 * `--bundle --target=node24 --platform=node --format=esm --outfile=index.mjs --minify --main-fields=module,main
 * --banner:js=… --log-level=error`, no source map, no externals (externalModules: [] bundles the AWS SDK), and the
 * function's `--define:…` and `--alias:…` (esbuildArgs).
 */
export function deployedBuildOptions(entry: string, outfile: string, options: BundleChoices = {}): BuildOptions {
  return { entryPoints: [resolve(REPO_ROOT, entry)], ...bundleOptions(outfile, options) };
}

interface BundleChoices {
  readonly external?: string[];
  readonly define?: Readonly<Record<string, string>>;
  readonly alias?: Readonly<Record<string, string>>;
}

function bundleOptions(outfile: string, options: BundleChoices): BuildOptions {
  return {
    bundle: true,
    target: 'node24',
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external: options.external ?? [],
    define: { ...options.define },
    alias: { ...options.alias },
    logLevel: 'error',
    absWorkingDir: REPO_ROOT,
  };
}

/** What infra/function.ts must still say for the options above to be the deployed ones. */
const INFRA_EXPECTATIONS: readonly [string, RegExp][] = [
  ['format ESM', /format:\s*OutputFormat\.ESM/],
  ["target 'node24'", /target:\s*'node24'/],
  ["mainFields ['module', 'main']", /mainFields:\s*\[\s*'module',\s*'main'\s*\]/],
  ['minify: true', /minify:\s*true/],
  ['sourceMap: false', /sourceMap:\s*false/],
  ['externalModules: [] (AWS SDK bundled)', /externalModules:\s*\[\s*\]/],
  ['the createRequire banner', /__gatehouseCreateRequire/],
  ["each function's define", /define:\s*\{\s*\.\.\.this\.define\s*\}/],
  ["each function's alias (esbuildArgs --alias)", /esbuildArgs:\s*\{\s*'--alias'/],
];

export interface InfraCheck {
  readonly file: string;
  readonly matches: readonly string[];
  readonly differs: readonly string[];
  /** true when infra bundles @aws-sdk/* (externalModules: []). */
  readonly sdkBundled: boolean;
}

export function checkInfraBundling(): InfraCheck {
  const file = 'infra/function.ts';
  const path = join(REPO_ROOT, file);
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const matches: string[] = [];
  const differs: string[] = [];
  for (const [name, re] of INFRA_EXPECTATIONS) (re.test(text) ? matches : differs).push(name);
  return { file, matches, differs, sdkBundled: /externalModules:\s*\[\s*\]/.test(text) };
}

export const VARIANTS = {
  deployed: { label: 'as deployed (infra/function.ts)' },
  credentialChain: { label: "what-if: the SDK's whole default credential chain (no alias; before issue 16)" },
  sdkExternal: { label: 'what-if: @aws-sdk/* left to the Lambda runtime' },
} as const;
export type VariantName = keyof typeof VARIANTS;

function variantOptions(fn: DeployedFunction, variant: VariantName) {
  return {
    define: fn.define,
    alias: variant === 'credentialChain' ? {} : fn.alias,
    external: variant === 'sdkExternal' ? ['@aws-sdk/*'] : [],
  };
}

export interface Timing {
  /** Median wall time of the child minus the median of `node -e ''` (ms). */
  readonly overBareMs: number;
  readonly overBareP90Ms: number;
  /** Median CPU time (user + system) of the child minus bare node's (ms). */
  readonly cpuOverBareMs: number;
  /** Median time measured inside the child around the measured step (ms). */
  readonly inProcessMs: number;
  readonly runs: number;
  readonly failed?: string;
}

export interface VariantResult extends Partial<Timing> {
  readonly bytes: number;
  readonly gzipBytes: number;
}

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  /** The function's memory (MB) and architecture, as deployed. */
  readonly memoryMb: number;
  readonly arm: boolean;
  readonly variants: Readonly<Record<VariantName, VariantResult>>;
  /** What the deployed bundle is made of (esbuild metafile: bytes in the output per package), largest first. */
  readonly composition: readonly { readonly name: string; readonly bytes: number }[];
}

export interface FloorProbe {
  readonly name: string;
  readonly bytes: number;
  readonly timing?: Timing;
}

export interface ColdStartResults {
  readonly infra: InfraCheck;
  readonly bareNodeMs: number;
  readonly bareNodeCpuMs: number;
  readonly emptyEsmOverBareMs: number;
  readonly runs: number;
  readonly childEnvNote: string;
  readonly bundles: readonly BundleResult[];
  /** The authorizer as deployed: import, init and one decision without I/O, in a fresh process. */
  readonly authorizerFirstDecision?: Timing;
  readonly floor: readonly FloorProbe[];
}

/** Output bytes per npm package (or per source folder), from an esbuild metafile. */
function composition(metafile: Metafile): { name: string; bytes: number }[] {
  const out = Object.values(metafile.outputs)[0];
  const byPackage = new Map<string, number>();
  for (const [file, info] of Object.entries(out?.inputs ?? {})) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const name = m ? m[1]! : file.split('/').slice(0, 2).join('/');
    byPackage.set(name, (byPackage.get(name) ?? 0) + info.bytesInOutput);
  }
  return [...byPackage].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/** Every child reports its CPU time (user + system, ms) at exit, on stderr after a marker. */
const CPU_MARKER = '__GATEHOUSE_CPU__';
const STEP_MARKER = '__GATEHOUSE_STEP__';
const REPORT_CPU = `process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('${CPU_MARKER}'+(u.user+u.system)/1000+'\\n')});`;

/** Script for a child: import the module and report how long import() took. */
function importScript(file: string): string {
  const url = pathToFileURL(file).href;
  return (
    REPORT_CPU +
    `const t=performance.now();import(${JSON.stringify(url)})` +
    `.then(()=>{process.stderr.write('${STEP_MARKER}'+(performance.now()-t)+'\\n')},e=>{console.error(String(e));process.exit(1)})`
  );
}

/**
 * Script for a child: import the authorizer and run its first invocation — the handler's init (settings, the
 * bundled API, clients) and one decision that needs no I/O (no credential: refused as `Unauthorized`) — then exit
 * at once (the mode check it starts in the background is not waited for).
 */
function firstDecisionScript(file: string): string {
  const url = pathToFileURL(file).href;
  const event = { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/v1/whoami', resource: '/v1/whoami', path: '/v1/whoami', httpMethod: 'GET', headers: {}, multiValueHeaders: {}, requestContext: { identity: { sourceIp: '203.0.113.1' } } };
  return (
    REPORT_CPU +
    `const t=performance.now();import(${JSON.stringify(url)}).then(async(m)=>{` +
    `try{await m.handler(${JSON.stringify(event)})}catch(e){if(e.message!=='Unauthorized')throw e}` +
    `process.stderr.write('${STEP_MARKER}'+(performance.now()-t)+'\\n');process.exit(0)}).catch(e=>{console.error(String(e));process.exit(1)})`
  );
}

/** What the authorizer's init reads (a table, a pepper, a region, credentials) — all local, so no decision waits on a network. */
const AUTHORIZER_ENV: Record<string, string> = {
  GATEHOUSE_TABLE_NAME: 'gatehouse-bench',
  GATEHOUSE_LOCAL_PEPPER: 'bench-pepper-'.padEnd(48, 'x'),
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'ASIABENCH',
  AWS_SECRET_ACCESS_KEY: 'bench',
  AWS_SESSION_TOKEN: 'bench',
  // The mode check at cold start writes to DynamoDB in the background: refused at once on a closed port.
  AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:9',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'ERROR',
};

/**
 * Floor probes, a ladder each step of which adds to the one before: what any authorizer that bundles the SDK clients
 * pays at import, and what lazy-loading the Secrets Manager client or the JWT verifier could save at most.
 */
const DYNAMO = "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; export const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));";
const SECRETS = "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; export const sm = new SecretsManagerClient({});";
const JWT = "export { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';";
export const FLOOR_PROBES: readonly { name: string; code: string }[] = [
  { name: 'an empty ES module (the ESM loader’s share)', code: 'export {};' },
  { name: 'the Node built-ins the SDK loads (http, https, zlib, stream, crypto)', code: "import 'node:http'; import 'node:https'; import 'node:zlib'; import 'node:stream'; import 'node:crypto'; export {};" },
  { name: 'the DynamoDB client and document client, constructed (environment credentials)', code: DYNAMO },
  { name: '… + the Secrets Manager client (what lazy-loading it could save: the difference)', code: `${DYNAMO} ${SECRETS}` },
  { name: '… + aws-jwt-verify (likewise for the JWT verifier)', code: `${DYNAMO} ${SECRETS} ${JWT}` },
];

export async function runColdStart(options: { runs?: number; log?: (line: string) => void } = {}): Promise<ColdStartResults> {
  const log = options.log ?? (() => undefined);
  const runs = Math.max(10, options.runs ?? 15);
  const infra = checkInfraBundling();
  const { functions } = await synthDeployment();
  // Inside the repository so that bundles with @aws-sdk/* external resolve it from node_modules, as the Lambda
  // runtime resolves its own copy from /var/runtime/node_modules (unbundled either way).
  const cacheDir = join(REPO_ROOT, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const dir = mkdtempSync(join(cacheDir, 'gatehouse-bench-bundles-'));
  try {
    log(`cold start: bundling ${functions.length} functions as infra/function.ts does (authorizer: ${Object.keys(VARIANTS).length} variants), and ${FLOOR_PROBES.length} floor probes…`);
    const files = new Map<string, string>();
    const sizes = new Map<string, { bytes: number; gzipBytes: number }>();
    const compositions = new Map<string, { name: string; bytes: number }[]>();
    const id = (name: string, variant: VariantName) => `${name}|${variant}`;
    const measureSize = (key: string, file: string) => {
      const code = readFileSync(file);
      files.set(key, file);
      sizes.set(key, { bytes: code.length, gzipBytes: gzipSync(code).length });
    };
    const variantsOf = (name: string): VariantName[] => (name === 'authorizer' ? (Object.keys(VARIANTS) as VariantName[]) : ['deployed', 'sdkExternal']);
    for (const fn of functions) {
      for (const variant of variantsOf(fn.name)) {
        const file = join(dir, fn.name.replace('/', '-'), variant, 'index.mjs');
        const out = await build({ ...deployedBuildOptions(fn.entry, file, variantOptions(fn, variant)), metafile: true });
        if (variant === 'deployed') compositions.set(fn.name, composition(out.metafile));
        measureSize(id(fn.name, variant), file);
      }
    }
    const floorFiles = FLOOR_PROBES.map((probe, i) => {
      const file = join(dir, `floor-${i}`, 'index.mjs');
      return { probe, file };
    });
    for (const { probe, file } of floorFiles) {
      await build({ ...bundleOptions(file, { alias: lambdaBundleAliases() }), stdin: { contents: probe.code, resolveDir: REPO_ROOT, loader: 'js' } });
      measureSize(`floor|${probe.name}`, file);
    }

    const authorizerFile = files.get(id('authorizer', 'deployed'));
    const targets: { key: string; args: string[]; env?: Record<string, string> }[] = [{ key: 'bare', args: ['-e', REPORT_CPU] }];
    for (const fn of functions) {
      for (const variant of variantsOf(fn.name)) {
        if (variant === 'deployed' || fn.name === 'authorizer') targets.push({ key: id(fn.name, variant), args: ['-e', importScript(files.get(id(fn.name, variant))!)] });
      }
    }
    if (authorizerFile) targets.push({ key: 'first-decision', args: ['-e', firstDecisionScript(authorizerFile)], env: AUTHORIZER_ENV });
    for (const { probe, file } of floorFiles) targets.push({ key: `floor|${probe.name}`, args: ['-e', importScript(file)] });

    const wall = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    const cpu = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    const inner = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    const failures = new Map<string, string>();
    log(`cold start: ${runs} child processes per target (${targets.length} targets), interleaved…`);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(k + r) % targets.length]!;
        const start = performance.now();
        const out = spawnSync(process.execPath, t.args, { env: childEnv(t.env), encoding: 'utf8', timeout: 20_000, cwd: dir });
        const ms = performance.now() - start;
        if (out.status !== 0) {
          failures.set(t.key, (out.stderr || String(out.error ?? out.signal)).split('\n').slice(0, 2).join(' ').slice(0, 200));
          continue;
        }
        wall.get(t.key)!.push(ms);
        for (const line of out.stderr.split('\n')) {
          if (line.startsWith(CPU_MARKER)) cpu.get(t.key)!.push(Number(line.slice(CPU_MARKER.length)));
          if (line.startsWith(STEP_MARKER)) inner.get(t.key)!.push(Number(line.slice(STEP_MARKER.length)));
        }
      }
    }
    const at = (xs: number[], q: number) => quantile([...xs].sort((a, b) => a - b), q);
    const bare = at(wall.get('bare')!, 0.5);
    const bareCpu = at(cpu.get('bare')!, 0.5);
    const timing = (key: string): Timing => ({
      overBareMs: at(wall.get(key)!, 0.5) - bare,
      overBareP90Ms: at(wall.get(key)!, 0.9) - bare,
      cpuOverBareMs: at(cpu.get(key)!, 0.5) - bareCpu,
      inProcessMs: at(inner.get(key)!, 0.5),
      runs: wall.get(key)!.length,
      ...(failures.has(key) ? { failed: failures.get(key)! } : {}),
    });
    const bundles: BundleResult[] = functions.map((fn) => {
      const variants = Object.fromEntries(
        variantsOf(fn.name).map((variant) => {
          const key = id(fn.name, variant);
          return [variant, { ...sizes.get(key)!, ...(wall.has(key) ? timing(key) : {}) }];
        }),
      ) as Record<VariantName, VariantResult>;
      return { name: fn.name, entry: fn.entry, memoryMb: fn.memoryMb, arm: fn.arm, variants, composition: compositions.get(fn.name) ?? [] };
    });
    const floor = floorFiles.map(({ probe }) => ({ name: probe.name, bytes: sizes.get(`floor|${probe.name}`)!.bytes, timing: timing(`floor|${probe.name}`) }));
    return {
      infra,
      bareNodeMs: bare,
      bareNodeCpuMs: bareCpu,
      emptyEsmOverBareMs: floor[0]?.timing.overBareMs ?? NaN,
      runs,
      childEnvNote:
        process.env.NODE_EXTRA_CA_CERTS !== undefined
          ? 'NODE_EXTRA_CA_CERTS is set on this machine; every child process ran with it (and NODE_OPTIONS) unset.'
          : 'NODE_EXTRA_CA_CERTS is not set here; every child process ran with NODE_OPTIONS unset.',
      bundles,
      ...(authorizerFile ? { authorizerFirstDecision: timing('first-decision') } : {}),
      floor,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runColdStart({ log: (l) => console.error(l) });
  writeFileSync(1, `${JSON.stringify(r, null, 2)}\n`);
}
