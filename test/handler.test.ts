/** The Lambda entry point: configuration read from the environment, failing closed when it is unusable. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { issueKey } from '../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../lambdas/core/key-store.js';
import { PepperProvider, StaticPepperSource } from '../lambdas/core/pepper.js';
import { writeJwks } from '../lambdas/core/jwks-store.js';
import { startDynalite, type TestDynamo } from './support/dynalite.js';
import { makeSigningKey, signRs256 } from './support/tokens.js';
import { authorizerEvent } from './support/events.js';

const PEPPER = 'handler-pepper-'.padEnd(40, 'z');
let dynamo: TestDynamo;
const saved = { ...process.env };

beforeAll(async () => {
  dynamo = await startDynalite('gatehouse-handler');
});
afterAll(() => dynamo.stop());
/** Powertools writes INFO to stdout and WARN/ERROR to stderr: capture both. */
function captureOutput(): string[] {
  const writes: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk) => (writes.push(String(chunk)), true));
  }
  return writes;
}

afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

async function freshHandler(env: Record<string, string>) {
  process.env = {
    ...saved,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    GATEHOUSE_TABLE_NAME: dynamo.tableName,
    GATEHOUSE_LOCAL_PEPPER: PEPPER,
    GATEHOUSE_KEY_ENV: 'test',
    ...env,
  };
  vi.resetModules();
  return (await import('../lambdas/authorizer/handler.js')).handler;
}

describe('authorizer Lambda handler', () => {
  it('decides with configuration from the environment', async () => {
    const peppers = new PepperProvider(new StaticPepperSource(PEPPER), { refreshSeconds: 300, maxStaleSeconds: 600 });
    const { key } = await issueKey(
      { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers, environment: 'test' },
      { tenant: 'env-tenant', name: 'k', scopes: ['items:read'], createdBy: 'test' },
    );
    const handler = await freshHandler({});
    const result = await handler(authorizerEvent({ headers: { 'X-API-Key': key } }));
    expect(result.context).toMatchObject({ tenant: 'env-tenant', authMethod: 'api_key' });
    await expect(handler(authorizerEvent({ headers: {} }))).rejects.toThrow(/^Unauthorized$/);
  });

  it('denies every request when the configuration is malformed, without a 401 and without an Allow', async () => {
    const output = captureOutput();
    const handler = await freshHandler({ GATEHOUSE_AUTH_MODE: 'open-sesame' });
    for (let i = 0; i < 2; i++) {
      const outcome = await handler(authorizerEvent({ headers: {} })).then(() => 'allowed', (e: Error) => e.message);
      expect(outcome).toMatch(/GATEHOUSE_AUTH_MODE/);
    }
    expect(output.join('')).toMatch(/configuration is unusable/);
  });

  it('denies when no pepper source is configured', async () => {
    captureOutput();
    const handler = await freshHandler({ GATEHOUSE_LOCAL_PEPPER: '' });
    await expect(handler(authorizerEvent({ headers: {} }))).rejects.toThrow(/GATEHOUSE_PEPPER_SECRET_ID/);
  });

  it('with GATEHOUSE_JWKS_SOURCE=store verifies tokens against the JWKS mirrored into the table (no network)', async () => {
    const issuer = 'https://issuer.example.com';
    const jwksUri = `${issuer}/.well-known/jwks.json`;
    const signer = makeSigningKey();
    await writeJwks(dynamo.doc, dynamo.tableName, jwksUri, JSON.stringify({ keys: [signer.jwk] }), new Date().toISOString());
    const handler = await freshHandler({
      GATEHOUSE_JWKS_SOURCE: 'store',
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer, jwksUri, clientIds: ['m2m'], scopePrefix: 'gatehouse/' }]),
    });
    const claims = { iss: issuer, sub: 'm2m', client_id: 'm2m', token_use: 'access', scope: 'gatehouse/items:read', exp: Math.floor(Date.now() / 1000) + 60 };
    const result = await handler(authorizerEvent({ headers: { Authorization: `Bearer ${signRs256({ alg: 'RS256', kid: signer.kid }, claims, signer.privateKey)}` } }));
    expect(result.context).toMatchObject({ authMethod: 'jwt', tenant: 'm2m', scopes: 'items:read' });
    // A kid the mirror never saw: refused (the copy was read again and did not have it), never allowed.
    const stranger = makeSigningKey();
    const outcome = await handler(authorizerEvent({ headers: { Authorization: `Bearer ${signRs256({ alg: 'RS256', kid: stranger.kid }, claims, stranger.privateKey)}` } })).then(
      () => 'allowed',
      (e: Error) => e.message,
    );
    expect(outcome).not.toBe('allowed');
  });

  it.each(['audit', 'off'])('warns loudly at cold start in %s mode', async (mode) => {
    const writes = captureOutput();
    const handler = await freshHandler({ GATEHOUSE_AUTH_MODE: mode });
    const result = await handler(authorizerEvent({ headers: {} }));
    expect(result.context?.principalId).toBe('anonymous');
    const warning = writes.map((w) => JSON.parse(w) as { level: string; message: string }).find((l) => l.level === 'WARN');
    expect(warning?.message).toContain(`GATEHOUSE AUTH MODE IS "${mode.toUpperCase()}"`);
  });
});
