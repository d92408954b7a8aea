/**
 * The environment credentials that stand in for the SDK's default credential chain in Gatehouse's Lambda bundles
 * (lambdas/core/lambda-credentials.ts, infra/bundle.ts LAMBDA_BUNDLE_ALIASES): the same exports as the chain, the
 * credentials Lambda puts in the environment, a clear error without them, and — bundled as the functions are, run
 * against dynalite — a client that signs with them while the chain's other links are gone from the bundle.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as chain from '@aws-sdk/credential-provider-node';
import * as standIn from '../../lambdas/core/lambda-credentials.js';
import { LAMBDA_BUNDLE_ALIASES } from '../../infra/bundle.js';
import { lambdaBundleAliases, REPO_ROOT } from '../../infra/function.js';
import { startDynalite, type TestDynamo } from '../support/dynalite.js';

const ENV_NAMES = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_CREDENTIAL_EXPIRATION', 'AWS_PROFILE'] as const;

function withEnv<T>(values: Partial<Record<(typeof ENV_NAMES)[number], string>>, run: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(ENV_NAMES.map((n) => [n, process.env[n]]));
  for (const name of ENV_NAMES) delete process.env[name];
  Object.assign(process.env, values);
  return run().finally(() => {
    for (const name of ENV_NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });
}

describe('the stand-in for the default credential chain', () => {
  it('exports exactly what @aws-sdk/credential-provider-node exports (so every client that imports the chain gets a value)', () => {
    const names = (m: object) => Object.keys(m).filter((n) => n !== 'default').sort();
    expect(names(standIn).filter((n) => n !== 'NO_ENVIRONMENT_CREDENTIALS')).toEqual(names(chain));
  });

  it('answers with the credentials Lambda sets in the environment, as the chain’s first link does', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'session' };
    const mine = await withEnv(env, () => standIn.defaultProvider()());
    const theirs = await withEnv(env, () => chain.defaultProvider()());
    expect(mine).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' });
    expect(mine).toEqual(theirs);
  });

  it('ignores AWS_PROFILE (Lambda sets none) and fails clearly without environment credentials, naming the variables', async () => {
    await expect(withEnv({ AWS_PROFILE: 'someone' }, () => standIn.defaultProvider()())).rejects.toMatchObject({
      name: 'CredentialsProviderError',
      message: standIn.NO_ENVIRONMENT_CREDENTIALS,
    });
    expect(standIn.NO_ENVIRONMENT_CREDENTIALS).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
  });

  it('judges expiring credentials as the chain does', () => {
    const now = Date.now();
    for (const expiration of [undefined, new Date(now - 1), new Date(now + 60_000), new Date(now + 600_000)]) {
      const credentials = { accessKeyId: 'a', secretAccessKey: 's', ...(expiration ? { expiration } : {}) };
      expect(standIn.credentialsTreatedAsExpired(credentials)).toBe(chain.credentialsTreatedAsExpired(credentials));
      expect(standIn.credentialsWillNeedRefresh(credentials)).toBe(chain.credentialsWillNeedRefresh(credentials));
    }
  });

  it('the clients Gatehouse bundles still take their chain from @aws-sdk/credential-provider-node (else the alias would drop nothing)', () => {
    const require = createRequire(join(REPO_ROOT, 'package.json'));
    for (const client of ['@aws-sdk/client-dynamodb', '@aws-sdk/client-secrets-manager']) {
      const dir = dirname(require.resolve(`${client}/package.json`));
      const runtimeConfig = readFileSync(join(dir, 'dist-es', 'runtimeConfig.js'), 'utf8');
      expect(runtimeConfig, client).toMatch(/import \{ defaultProvider as credentialDefaultProvider \} from "@aws-sdk\/credential-provider-node"/);
    }
    expect(Object.keys(LAMBDA_BUNDLE_ALIASES)).toEqual(['@aws-sdk/credential-provider-node']);
  });
});

describe('bundled as a Gatehouse function (esbuild with the alias), run in a child process against dynalite', () => {
  let dynamo: TestDynamo;
  let dir: string;
  let bundle: string;
  let inputs: string[];

  beforeAll(async () => {
    dynamo = await startDynalite('gatehouse-credentials-probe');
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-credentials-'));
    bundle = join(dir, 'index.mjs');
    const out = await build({
      entryPoints: [join(REPO_ROOT, 'test/infra/fixtures/credentials-probe.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      mainFields: ['module', 'main'],
      outfile: bundle,
      banner: { js: "import { createRequire as __r } from 'node:module'; const require = __r(import.meta.url);" },
      alias: lambdaBundleAliases(),
      metafile: true,
      logLevel: 'error',
    });
    inputs = Object.keys(out.metafile.inputs);
  }, 60_000);

  afterAll(async () => {
    await dynamo?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Asynchronously: dynalite serves from this process, which a synchronous spawn would block.
  const run = async (env: Record<string, string>) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const { stdout } = await promisify(execFile)(process.execPath, [bundle], {
      env: { ...base, ...env, PROBE_ENDPOINT: dynamo.endpoint, PROBE_TABLE: dynamo.tableName, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  };

  it('carries none of the chain’s other links: no SSO, INI, process, web-identity, container or IMDS provider, no nested STS/SSO clients', () => {
    expect(inputs.some((i) => i.endsWith('lambdas/core/lambda-credentials.ts'))).toBe(true);
    const dropped = inputs.filter((i) =>
      /@aws-sdk\/(credential-provider-(node|ini|sso|process|web-identity|http|login)|nested-clients|token-providers)\/|@smithy\/credential-provider-imds\//.test(i),
    );
    expect(dropped).toEqual([]);
  });

  it('signs with the environment credentials Lambda sets and reads from DynamoDB', async () => {
    const result = await run({ AWS_ACCESS_KEY_ID: 'ASIAPROBE', AWS_SECRET_ACCESS_KEY: 'probe-secret', AWS_SESSION_TOKEN: 'probe-session' });
    expect(result).toEqual({ ok: true, accessKeyId: 'ASIAPROBE', sessionToken: 'probe-session', found: false });
  });

  it('without them, fails with the error that says where credentials must be — never another source', async () => {
    expect(await run({})).toEqual({ ok: false, name: 'CredentialsProviderError', message: standIn.NO_ENVIRONMENT_CREDENTIALS });
  });
});
