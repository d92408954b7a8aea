/**
 * Part 2 — cold start: every Lambda entry bundled the way infra/function.ts bundles it (NodejsFunction's esbuild
 * arguments), its size and gzip size, and the time to import it in a fresh node process over a bare `node -e ''`.
 *
 * Children run with NODE_EXTRA_CA_CERTS and NODE_OPTIONS removed from their environment: the first adds ~50 ms of
 * certificate loading to every node start on machines that set it, which would drown the differences measured here.
 * Standalone: `npx tsx bench/cold-start.ts`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { ROUTES } from '../lambdas/routes.js';
import { quantile } from './measure.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The same banner infra/function.ts adds (ESM bundles with CommonJS dependencies need a `require`). */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __gatehouseCreateRequire } from 'node:module'; const require = __gatehouseCreateRequire(import.meta.url);";

/**
 * NodejsFunction's esbuild arguments for infra/function.ts's `bundling` (aws-cdk-lib's Bundling.buildEsbuildArgs):
 * `--bundle --target=node24 --platform=node --format=esm --outfile=index.mjs --minify --main-fields=module,main
 * --banner:js=… --log-level=error`, no source map, no externals (externalModules: [] bundles the AWS SDK).
 */
export function deployedBuildOptions(entry: string, outfile: string, external: string[] = []): BuildOptions {
  return {
    entryPoints: [join(REPO_ROOT, entry)],
    bundle: true,
    target: 'node24',
    platform: 'node',
    format: 'esm',
    outfile,
    minify: true,
    sourcemap: false,
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    external,
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

/** Every entry the CDK app deploys (infra/api-stack.ts: authorizer + one per route handler group; data and identity stacks). */
export function deployedEntries(): { name: string; entry: string }[] {
  const entries = [{ name: 'authorizer', entry: 'lambdas/authorizer/handler.ts' }];
  for (const handler of [...new Set(ROUTES.map((r) => r.handler))]) entries.push({ name: `api/${handler}`, entry: `lambdas/api/${handler}/index.ts` });
  entries.push({ name: 'bootstrap', entry: 'lambdas/bootstrap/handler.ts' });
  entries.push({ name: 'jwks-mirror', entry: 'lambdas/jwks-mirror/handler.ts' });
  entries.push({ name: 'bookkeeper', entry: 'lambdas/bookkeeper/handler.ts' });
  return entries.filter((e) => existsSync(join(REPO_ROOT, e.entry)));
}

/**
 * What-if: `import * as z from 'zod'` instead of `import { z } from 'zod'` in the sources (the form zod 4's
 * documentation uses). The named import drags the whole zod namespace object into the bundle — all 64 locales and
 * the JSON-schema converters — because a bundler cannot tree-shake members of an object it hands out whole.
 * The sources are not changed: this plugin rewrites the import while bundling, so the bench measures the effect.
 */
const zodNamespaceImport: Plugin = {
  name: 'what-if-zod-namespace-import',
  setup(b) {
    b.onLoad({ filter: /[\\/]lambdas[\\/].*\.ts$/ }, async (args) => ({
      contents: (await readFile(args.path, 'utf8')).replace(/^import \{ z \} from 'zod';$/gm, "import * as z from 'zod';"),
      loader: 'ts',
    }));
  },
};

export const VARIANTS = {
  deployed: { label: 'as deployed (infra/function.ts)', plugins: [] as Plugin[], external: [] as string[] },
  sdkExternal: { label: '@aws-sdk/* left to the Lambda runtime', plugins: [] as Plugin[], external: ['@aws-sdk/*'] },
  zodNamespace: { label: "what-if: import * as z from 'zod'", plugins: [zodNamespaceImport], external: [] as string[] },
  zodNamespaceSdkExternal: { label: "what-if: import * as z from 'zod', @aws-sdk/* external", plugins: [zodNamespaceImport], external: ['@aws-sdk/*'] },
} as const;
export type VariantName = keyof typeof VARIANTS;

export interface VariantResult {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Median wall time of `node -e "import(bundle)"` minus the median of `node -e ''` (ms); absent when not timed. */
  readonly importOverBareMs?: number;
  readonly importOverBareP90Ms?: number;
  /** Median time of the import() itself, measured inside the child (ms). */
  readonly importInProcessMs?: number;
  readonly runs?: number;
  readonly failed?: string;
}

export interface BundleResult {
  readonly name: string;
  readonly entry: string;
  readonly variants: Readonly<Record<VariantName, VariantResult>>;
  /** What the deployed bundle is made of (esbuild metafile: bytes in the output per package), largest first. */
  readonly composition: readonly { readonly name: string; readonly bytes: number }[];
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

export interface ColdStartResults {
  readonly infra: InfraCheck;
  readonly bareNodeMs: number;
  readonly emptyEsmOverBareMs: number;
  readonly runs: number;
  readonly childEnvNote: string;
  readonly bundles: readonly BundleResult[];
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

/** Script for a child: import the module, print how long import() took, exit 0 (or 1 with the error). */
function importScript(file: string): string {
  const url = pathToFileURL(file).href;
  return (
    `const t=performance.now();import(${JSON.stringify(url)})` +
    `.then(()=>{process.stdout.write(String(performance.now()-t))},e=>{console.error(String(e));process.exit(1)})`
  );
}

/** Which (entry, variant) pairs get timed: every entry as deployed, and every variant of the authorizer. */
function timed(name: string, variant: VariantName): boolean {
  return variant === 'deployed' || name === 'authorizer';
}

export async function runColdStart(options: { runs?: number; log?: (line: string) => void } = {}): Promise<ColdStartResults> {
  const log = options.log ?? (() => undefined);
  const runs = Math.max(10, options.runs ?? 15);
  const infra = checkInfraBundling();
  // Inside the repository so that bundles with @aws-sdk/* external resolve it from node_modules, as the Lambda
  // runtime resolves its own copy from /var/runtime/node_modules (unbundled either way).
  const cacheDir = join(REPO_ROOT, 'node_modules', '.cache');
  mkdirSync(cacheDir, { recursive: true });
  const dir = mkdtempSync(join(cacheDir, 'gatehouse-bench-bundles-'));
  try {
    const entries = deployedEntries();
    log(`cold start: bundling ${entries.length} entries × ${Object.keys(VARIANTS).length} variants as infra/function.ts does…`);
    const files = new Map<string, string>();
    const sizes = new Map<string, { bytes: number; gzipBytes: number }>();
    const compositions = new Map<string, { name: string; bytes: number }[]>();
    const id = (name: string, variant: VariantName) => `${name}|${variant}`;
    for (const { name, entry } of entries) {
      for (const [variant, v] of Object.entries(VARIANTS) as [VariantName, (typeof VARIANTS)[VariantName]][]) {
        const file = join(dir, name.replace('/', '-'), variant, 'index.mjs');
        const out = await build({ ...deployedBuildOptions(entry, file, [...v.external]), plugins: [...v.plugins], metafile: true });
        if (variant === 'deployed') compositions.set(name, composition(out.metafile));
        const code = readFileSync(file);
        files.set(id(name, variant), file);
        sizes.set(id(name, variant), { bytes: code.length, gzipBytes: gzipSync(code).length });
      }
    }
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, '');

    const targets: { key: string; args: string[] }[] = [
      { key: 'bare', args: ['-e', ''] },
      { key: 'empty', args: ['-e', importScript(empty)] },
    ];
    for (const { name } of entries) {
      for (const variant of Object.keys(VARIANTS) as VariantName[]) {
        if (timed(name, variant)) targets.push({ key: id(name, variant), args: ['-e', importScript(files.get(id(name, variant))!)] });
      }
    }
    const wall = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    const inner = new Map<string, number[]>(targets.map((t) => [t.key, []]));
    const failures = new Map<string, string>();
    const env = childEnv();
    log(`cold start: ${runs} child processes per target (${targets.length} targets), interleaved…`);
    for (let r = 0; r < runs; r++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(k + r) % targets.length]!;
        const start = performance.now();
        const out = spawnSync(process.execPath, t.args, { env, encoding: 'utf8', timeout: 20_000, cwd: dir });
        const ms = performance.now() - start;
        if (out.status !== 0) {
          failures.set(t.key, (out.stderr || String(out.error ?? out.signal)).split('\n').slice(0, 2).join(' ').slice(0, 200));
          continue;
        }
        wall.get(t.key)!.push(ms);
        if (out.stdout) inner.get(t.key)!.push(Number(out.stdout));
      }
    }
    const at = (xs: number[], q: number) => quantile([...xs].sort((a, b) => a - b), q);
    const bare = at(wall.get('bare')!, 0.5);
    const bundles: BundleResult[] = entries.map(({ name, entry }) => {
      const variants = Object.fromEntries(
        (Object.keys(VARIANTS) as VariantName[]).map((variant) => {
          const key = id(name, variant);
          const size = sizes.get(key)!;
          if (!timed(name, variant)) return [variant, size];
          const w = wall.get(key)!;
          const result: VariantResult = {
            ...size,
            importOverBareMs: at(w, 0.5) - bare,
            importOverBareP90Ms: at(w, 0.9) - bare,
            importInProcessMs: at(inner.get(key)!, 0.5),
            runs: w.length,
            ...(failures.has(key) ? { failed: failures.get(key)! } : {}),
          };
          return [variant, result];
        }),
      ) as Record<VariantName, VariantResult>;
      return { name, entry, variants, composition: compositions.get(name) ?? [] };
    });
    return {
      infra,
      bareNodeMs: bare,
      emptyEsmOverBareMs: at(wall.get('empty')!, 0.5) - bare,
      runs,
      childEnvNote:
        process.env.NODE_EXTRA_CA_CERTS !== undefined
          ? 'NODE_EXTRA_CA_CERTS is set on this machine; every child process ran with it (and NODE_OPTIONS) unset.'
          : 'NODE_EXTRA_CA_CERTS is not set here; every child process ran with NODE_OPTIONS unset.',
      bundles,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runColdStart({ log: (l) => console.error(l) });
  console.log(JSON.stringify(r, null, 2));
}
