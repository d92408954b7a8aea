/** The machine, runtime and package versions a benchmark run happened on, for the report. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const PACKAGES = [
  'aws-jwt-verify',
  'jsonwebtoken',
  'jwks-rsa',
  'lru-cache',
  'zod',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-secrets-manager',
  '@aws-lambda-powertools/logger',
  '@middy/core',
  'dynalite',
  'oidc-provider',
  'esbuild',
  'autocannon',
  'tsx',
] as const;

export interface Environment {
  readonly date: string;
  readonly cpu: string;
  readonly cpuCount: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly v8: string;
  readonly openssl: string;
  readonly packages: Readonly<Record<string, string>>;
  readonly git: string;
  readonly loadAverageAtStart: readonly number[];
  readonly nodeExtraCaCerts: boolean;
}

function packageVersion(name: string): string {
  const file = join(REPO_ROOT, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return 'not installed';
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?';
}

function gitDescription(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return dirty === '' ? commit : `${commit} + uncommitted changes (${dirty.split('\n').length} paths)`;
  } catch {
    return 'not a git checkout';
  }
}

export function describeEnvironment(): Environment {
  const cores = cpus();
  return {
    date: new Date().toISOString(),
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cpuCount: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${type()} ${release()} ${arch()}`,
    node: process.version,
    v8: process.versions.v8,
    openssl: process.versions.openssl ?? '?',
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    git: gitDescription(),
    loadAverageAtStart: loadavg(),
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS !== undefined,
  };
}
