/**
 * The package's shape, checked without building it (fast; pack.test.ts installs the real tarball):
 * - every `exports` entry point has its source, and tsconfig.json `paths` / the vitest alias map the same names;
 * - what each entry point imports at run time: the package root and `gatehouse/runtime` no CDK, no local stack;
 *   `gatehouse/cdk` no local stack; and every package any entry imports is a dependency or a peer dependency of
 *   the package — never a devDependency, which a team's install does not have;
 * - the bins exist and are shipped; `npm pack --dry-run` lists no tests, no local state, no secrets, no sources.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/function.js';

interface PackageJson {
  readonly exports: Record<string, string | { readonly types: string; readonly default: string }>;
  readonly bin: Record<string, string>;
  readonly files: readonly string[];
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, { optional?: boolean }>;
  readonly scripts: Record<string, string>;
  readonly private?: boolean;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(join(REPO_ROOT, file), 'utf8')) as T;
const PKG = readJson<PackageJson>('package.json');

/** `./cdk` → `gatehouse/cdk`; `.` → `gatehouse`. */
const specifierOf = (subpath: string) => `gatehouse${subpath.slice(1)}`;
/** `./dist/infra/index.js` → `infra/index.ts`: the source an entry point is compiled from. */
const sourceOf = (target: string) => target.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts');

const ENTRIES = Object.entries(PKG.exports).flatMap(([subpath, target]) => (typeof target === 'object' ? [{ subpath, specifier: specifierOf(subpath), ...target, source: sourceOf(target.default) }] : []));

/** The repository folders and the packages an entry point's module graph imports at run time (type imports are erased). */
async function runtimeImports(source: string): Promise<{ folders: Set<string>; packages: Set<string> }> {
  const result = await build({ entryPoints: [join(REPO_ROOT, source)], absWorkingDir: REPO_ROOT, bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, packages: 'external', logLevel: 'silent' });
  const folders = new Set<string>();
  const packages = new Set<string>();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    folders.add(file.split('/')[0]!);
    for (const imported of input.imports) {
      if (!imported.external || imported.path.startsWith('node:')) continue;
      const parts = imported.path.split('/');
      packages.add(parts.slice(0, imported.path.startsWith('@') ? 2 : 1).join('/'));
    }
  }
  return { folders, packages };
}

const CDK_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag'];
const LOCAL_ONLY_PACKAGES = ['dynalite', 'oidc-provider', 'tsx'];

describe('package.json entry points', () => {
  it('exports `gatehouse`, `gatehouse/cdk`, `/runtime`, `/client` and `/local`, each with types, compiled from an existing source', () => {
    expect(ENTRIES.map((e) => e.specifier)).toEqual(['gatehouse', 'gatehouse/cdk', 'gatehouse/runtime', 'gatehouse/client', 'gatehouse/local']);
    for (const entry of ENTRIES) {
      expect(entry.types, entry.specifier).toBe(entry.default.replace(/\.js$/, '.d.ts'));
      expect(entry.default, entry.specifier).toMatch(/^\.\/dist\/(lambdas|infra|local|client)\//);
      expect(existsSync(join(REPO_ROOT, entry.source)), entry.source).toBe(true);
    }
  });

  it('tsconfig.json `paths` maps every entry point to its source (what vitest.config.mts derives from `exports`)', () => {
    const { compilerOptions } = readJson<{ compilerOptions: { paths: Record<string, string[]> } }>('tsconfig.json');
    expect(compilerOptions.paths).toEqual(Object.fromEntries(ENTRIES.map((e) => [e.specifier, [`./${e.source}`]])));
  });

  it('the package root and gatehouse/runtime import no CDK and no local stack: a declaration or a Lambda loads them anywhere', async () => {
    for (const specifier of ['gatehouse', 'gatehouse/runtime']) {
      const { folders, packages } = await runtimeImports(ENTRIES.find((e) => e.specifier === specifier)!.source);
      expect([...folders], specifier).toEqual(['lambdas']);
      for (const name of [...CDK_PACKAGES, ...LOCAL_ONLY_PACKAGES]) expect(packages.has(name), `${specifier} imports ${name}`).toBe(false);
    }
  });

  it('gatehouse/cdk and gatehouse/client import nothing of the local stack (its packages are optional peers)', async () => {
    for (const specifier of ['gatehouse/cdk', 'gatehouse/client']) {
      const { folders, packages } = await runtimeImports(ENTRIES.find((e) => e.specifier === specifier)!.source);
      expect(folders.has('local'), specifier).toBe(false);
      for (const name of LOCAL_ONLY_PACKAGES) expect(packages.has(name), `${specifier} imports ${name}`).toBe(false);
    }
  });

  it('every package an entry point imports at run time is a dependency or a peer dependency, never only a devDependency', async () => {
    const installedForTeams = new Set([...Object.keys(PKG.dependencies), ...Object.keys(PKG.peerDependencies)]);
    for (const entry of ENTRIES) {
      const { packages } = await runtimeImports(entry.source);
      const devOnly = [...packages].filter((name) => !installedForTeams.has(name));
      expect(devOnly, `${entry.specifier} imports devDependencies`).toEqual([]);
    }
  });

  it('peer dependencies: CDK and esbuild required; cdk-nag, the local stack’s packages and @types/aws-lambda optional; each installed here for the tests', () => {
    const required = Object.keys(PKG.peerDependencies).filter((name) => PKG.peerDependenciesMeta[name]?.optional !== true);
    expect(required.sort()).toEqual(['aws-cdk-lib', 'constructs', 'esbuild']);
    for (const name of [...LOCAL_ONLY_PACKAGES, 'cdk-nag', '@types/aws-lambda']) expect(PKG.peerDependenciesMeta[name]?.optional, name).toBe(true);
    // This repository installs each peer (devDependencies), so the suites run against a version the range admits.
    for (const name of Object.keys(PKG.peerDependencies)) expect(PKG.devDependencies[name], `${name} in devDependencies`).toBeDefined();
  });
});

describe('bins and packed files', () => {
  it('ships both bins, each an executable node script', () => {
    expect(PKG.bin).toEqual({ gatehouse: 'client/bin/gatehouse.js', 'gatehouse-local': 'local/bin/gatehouse-local.js' });
    for (const file of Object.values(PKG.bin)) {
      expect(PKG.files, file).toContain(file);
      expect(readFileSync(join(REPO_ROOT, file), 'utf8').startsWith('#!/usr/bin/env node\n'), file).toBe(true);
    }
    expect(PKG.scripts.prepack).toBe('npm run build');
  });

  it('npm pack --dry-run lists no tests, examples, local state, secrets or TypeScript sources', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'SECURITY.md', 'docs/contract.md', ...Object.values(PKG.bin)]));
    const forbidden = [
      /(^|\/)test\//,
      /\.test\.[cm]?[jt]s$/,
      /^bench\//,
      /^examples\//,
      /(^|\/)\.gatehouse(\/|$)/,
      /(^|\/)cdk\.out(\/|$)/,
      /(^|\/)node_modules\//,
      /(^|\/)\.env/,
      /\.(pem|key|p12|tgz)$/,
      /(^|\/)local\.json$/,
      /(^|\/)\.npmrc$/,
      /(^|\/)\.ci\//,
      /\.tsbuildinfo$/,
    ];
    for (const file of files) {
      for (const pattern of forbidden) expect(pattern.test(file), `${file} matches ${pattern}`).toBe(false);
      // Declarations only: the package ships compiled JavaScript, never sources a team's tsx or esbuild would pick up.
      if (/\.[cm]?ts$/.test(file)) expect(file, 'a TypeScript source in the package').toMatch(/\.d\.ts$/);
    }
  });
});

describe('examples/existing-api', () => {
  const EXAMPLE = join(REPO_ROOT, 'examples', 'existing-api');
  const sources = readdirSync(EXAMPLE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('node_modules') && !f.startsWith('cdk.out'));

  it('imports Gatehouse only through its public entry points, never a file of this repository', () => {
    expect(sources.length).toBeGreaterThan(0);
    const specifiers = new Set<string>();
    for (const file of sources) {
      for (const [, specifier] of readFileSync(join(EXAMPLE, file), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
        if (specifier!.startsWith('.')) {
          const target = resolve(dirname(join(EXAMPLE, file)), specifier!);
          expect(relative(EXAMPLE, target).startsWith('..'), `${file} imports ${specifier}`).toBe(false);
        } else {
          specifiers.add(specifier!);
        }
      }
    }
    const gatehouse = [...specifiers].filter((s) => s === 'gatehouse' || s.startsWith('gatehouse/'));
    expect(gatehouse.sort()).toEqual(['gatehouse', 'gatehouse/cdk', 'gatehouse/runtime']);
  });

  it("installs this version's packed tarball, with the versions of CDK, esbuild and the local stack's packages this repository tests", () => {
    const { version } = readJson<{ version: string }>('package.json');
    const example = readJson<{ dependencies: Record<string, string>; devDependencies: Record<string, string> }>('examples/existing-api/package.json');
    expect(example.dependencies.gatehouse).toBe(`file:../../gatehouse-${version}.tgz`);
    for (const [name, spec] of Object.entries({ ...example.dependencies, ...example.devDependencies })) {
      if (name === 'gatehouse') continue;
      expect(spec, name).toBe(PKG.devDependencies[name]);
    }
  });
});
