/**
 * Faults around the authorizer, wired exactly as in Lambda (wiring.ts buildAuthorizerDeps → createAuthorizer):
 * 1. the key store (dynalite) stopped while loops of decisions are running, then a new dynalite on the same port
 *    and data directory;
 * 2. the JWKS endpoint down (port closed), then slow beyond its timeout, then back;
 * 3. Secrets Manager failing (aws-sdk-client-mock on SecretsManagerClient; the pepper source is
 *    SecretsManagerPepperSource), then back.
 * During each fault every decision that needs the failed dependency denies (never an Allow, and never a 401 —
 * a dependency failure is not a refused credential); afterwards the service recovers by itself. Decisions are
 * counted per phase and printed (SECURITY.md quotes them).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import dynalite from 'dynalite';
import { afterAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../lambdas/authorizer/authorizer.js';
import { buildAuthorizerDeps, createDocumentClient, readAuthorizerSettings, type AuthorizerDepsSettings } from '../../lambdas/authorizer/wiring.js';
import { issueKey } from '../../lambdas/core/key-issuer.js';
import { DynamoKeyStore } from '../../lambdas/core/key-store.js';
import { createTableInput } from '../../lambdas/core/table.js';
import { captureLog } from '../support/capture-log.js';
import { startDynalite } from '../support/dynalite.js';
import { authorizerEvent } from '../support/events.js';
import { nowSeconds, rsaKey, signWith } from './support/jose.js';
import { startJwksServer } from './support/jwks-server.js';
import { LAB_PEPPER, peppers, settle, type Outcome } from './support/lab.js';

type Verdict = Outcome['verdict'];
const figures: Record<string, Record<string, Record<Verdict, number>>> = {};

function tally(fault: string, phase: string, verdict: Verdict): void {
  const f = (figures[fault] ??= {});
  const p = (f[phase] ??= { allow: 0, unauthorized: 0, failure: 0 });
  p[verdict]++;
}

afterAll(() => {
  const lines = Object.entries(figures).flatMap(([fault, phases]) => [
    `  ${fault}`,
    ...Object.entries(phases).map(([phase, v]) => `    ${phase.padEnd(34)} allow ${v.allow}, 401 ${v.unauthorized}, deny (failure) ${v.failure}`),
  ]);
  console.log(`\nFault injection (decisions per phase):\n${lines.join('\n')}`);
});

function settings(env: Record<string, string>): AuthorizerDepsSettings {
  return readAuthorizerSettings({ GATEHOUSE_KEY_ENV: 'test', GATEHOUSE_TABLE_NAME: 'gatehouse-faults', GATEHOUSE_LOCAL_PEPPER: LAB_PEPPER, ...env });
}

const keyEvent = (key: string): APIGatewayRequestAuthorizerEvent => authorizerEvent({ headers: { 'X-API-Key': key } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `decide` allows (bounded); answers how long recovery took. */
async function recovery(decide: () => Promise<Outcome>, limitMs: number, onEach: (o: Outcome) => void): Promise<number> {
  const started = Date.now();
  for (;;) {
    const o = await decide();
    onEach(o);
    if (o.verdict === 'allow') return Date.now() - started;
    if (Date.now() - started > limitMs) throw new Error(`did not recover within ${limitMs} ms: last ${JSON.stringify(o)}`);
    await sleep(50);
  }
}

describe('fault: the key store stops mid-run', () => {
  it('every decision started during the outage denies (none allowed, none 401); a new store on the same port and data recovers by itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-fault-store-'));
    const tableName = 'gatehouse-faults';
    const start = async (port: number) => {
      const server = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve());
      });
      return server;
    };
    let server = await start(0);
    const port = (server.address() as AddressInfo).port;
    const client = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 2,
    });
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      const doc = createDocumentClient(client);
      const { key } = await issueKey({ store: new DynamoKeyStore(doc, tableName), peppers: peppers(), environment: 'test' }, { tenant: 't', name: 'n', scopes: ['items:read'], createdBy: 't' });
      // No decision cache, so every decision reads the store (with the default 3 s cache, a key read just before the
      // outage keeps working until its entry ages out: the same bound as revocation).
      const deps = buildAuthorizerDeps(settings({ GATEHOUSE_CACHE_TTL_SECONDS: '0', GATEHOUSE_NEGATIVE_CACHE_TTL_SECONDS: '0' }), captureLog(), { dynamo: doc });
      const decide = createAuthorizer(deps);

      const marks = { stopCalled: Infinity, restartCalled: Infinity };
      const log: { startedAt: number; endedAt: number; verdict: Verdict }[] = [];
      let running = true;
      const loop = async () => {
        while (running) {
          const startedAt = Date.now();
          const o = await settle(decide(keyEvent(key)));
          log.push({ startedAt, endedAt: Date.now(), verdict: o.verdict });
          await sleep(5);
        }
      };
      const loops = Promise.all([loop(), loop(), loop(), loop()]);
      await sleep(400);
      marks.stopCalled = Date.now();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await sleep(1500);
      marks.restartCalled = Date.now();
      server = await start(port);
      await sleep(1200);
      running = false;
      await loops;

      for (const d of log) {
        const phase = d.endedAt < marks.stopCalled ? 'before' : d.startedAt >= marks.stopCalled && d.endedAt <= marks.restartCalled ? 'during the outage' : d.startedAt > marks.restartCalled ? 'after restart' : 'in flight at a transition';
        tally('key store stopped (4 loops)', phase, d.verdict);
      }
      const during = log.filter((d) => d.startedAt >= marks.stopCalled && d.endedAt <= marks.restartCalled);
      expect(during.length).toBeGreaterThan(10);
      expect(during.filter((d) => d.verdict === 'allow')).toEqual([]);
      expect(during.filter((d) => d.verdict === 'unauthorized')).toEqual([]);
      expect(log.filter((d) => d.endedAt < marks.stopCalled).every((d) => d.verdict === 'allow')).toBe(true);
      // Recovered by itself: the last decisions of every loop allow again.
      const after = log.filter((d) => d.startedAt > marks.restartCalled + 500);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((d) => d.verdict === 'allow')).toBe(true);
    } finally {
      client.destroy();
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});

describe('fault: the JWKS endpoint down, then slow, then back', () => {
  it('decisions that need the JWKS deny while it is down or slower than its timeout; they recover by themselves', async () => {
    const k1 = rsaKey('jwks-fault-k1');
    const k2 = rsaKey('jwks-fault-k2'); // the issuer's next key, published during the outage
    const jwks = await startJwksServer([k1.jwk]);
    const dynamo = await startDynalite('gatehouse-faults-jwks');
    const issuer = `${jwks.origin}/issuer`;
    const TIMEOUT_MS = 300;
    const env = {
      GATEHOUSE_JWKS_TIMEOUT_MS: String(TIMEOUT_MS),
      GATEHOUSE_OIDC_ISSUERS: JSON.stringify([{ issuer, jwksUri: jwks.jwksUri, audience: ['https://api.gatehouse.test'], tokenUse: 'access' }]),
      GATEHOUSE_TABLE_NAME: dynamo.tableName,
    };
    const container = () => createAuthorizer(buildAuthorizerDeps(settings(env), captureLog(), { dynamo: dynamo.doc }));
    const claims = () => ({ sub: 'u1', iss: issuer, aud: 'https://api.gatehouse.test', token_use: 'access', iat: nowSeconds(), exp: nowSeconds() + 600, 'cognito:groups': ['users'] });
    const event = (key: typeof k1) => authorizerEvent({ headers: { Authorization: `Bearer ${signWith(key, claims())}` } });
    const F = 'JWKS endpoint';
    try {
      const warm = container();
      expect((await settle(warm(event(k1)))).verdict).toBe('allow'); // warm: k1 cached

      // Down: the port is closed. A cold container (nothing cached) and the warm one meeting the new key k2.
      await jwks.stop();
      jwks.keys = [k1.jwk, k2.jwk];
      for (let i = 0; i < 20; i++) {
        for (const [phase, o] of [
          ['down: cold container', await settle(container()(event(k1)))],
          ['down: warm container, new kid', await settle(warm(event(k2)))],
        ] as const) {
          tally(F, phase, o.verdict);
          expect(o.verdict, JSON.stringify(o)).toBe('failure');
        }
      }
      // A key the warm container already holds is verified offline: the outage does not touch it.
      expect((await settle(warm(event(k1)))).verdict).toBe('allow');

      // Slow: accepts, never answers; every decision ends at the timeout, denied.
      await jwks.start();
      jwks.mode = 'slow';
      for (let i = 0; i < 5; i++) {
        for (const [phase, run] of [
          ['slow: cold container', () => container()(event(k1))],
          ['slow: warm container, new kid', () => warm(event(k2))],
        ] as const) {
          const t0 = Date.now();
          const o = await settle(run());
          tally(F, phase, o.verdict);
          expect(o.verdict).toBe('failure');
          expect(Date.now() - t0).toBeLessThan(TIMEOUT_MS + 1500);
        }
      }
      // Error answers (500) are a failure too.
      jwks.mode = 'error';
      const errored = await settle(container()(event(k1)));
      tally(F, 'answering 500: cold container', errored.verdict);
      expect(errored.verdict).toBe('failure');

      // Back: both recover with no restart.
      jwks.mode = 'ok';
      const warmMs = await recovery(() => settle(warm(event(k2))), 12_000, (o) => tally(F, 'back: warm container, new kid', o.verdict));
      const coldMs = await recovery(() => settle(container()(event(k1))), 2_000, (o) => tally(F, 'back: cold container', o.verdict));
      console.log(`JWKS recovery: warm container ${warmMs} ms, cold container ${coldMs} ms after the endpoint came back`);
      expect(figures[F]!['down: cold container']!.allow + figures[F]!['slow: cold container']!.allow).toBe(0);
    } finally {
      await Promise.all([jwks.close(), dynamo.stop()]);
    }
  }, 30_000);
});

describe('fault: Secrets Manager failing', () => {
  const sm = mockClient(SecretsManagerClient);
  afterAll(() => sm.restore());

  it('a cold container denies every key decision while the pepper cannot be read, a warm one only after its ring is stale; both recover', async () => {
    const dynamo = await startDynalite('gatehouse-faults-sm');
    const F = 'Secrets Manager';
    try {
      const { key } = await issueKey(
        { store: new DynamoKeyStore(dynamo.doc, dynamo.tableName), peppers: peppers(), environment: 'test' },
        { tenant: 't', name: 'n', scopes: ['items:read'], createdBy: 't' },
      );
      const env = { GATEHOUSE_TABLE_NAME: dynamo.tableName, GATEHOUSE_PEPPER_SECRET_ID: 'gatehouse/pepper', GATEHOUSE_LOCAL_PEPPER: '', GATEHOUSE_CACHE_TTL_SECONDS: '0' };
      // Refresh every 0.1 s here (at least 10 s when read from the environment), so "stale" comes after 1.2 s.
      const container = () =>
        createAuthorizer(buildAuthorizerDeps({ ...settings(env), pepperRefreshSeconds: 0.1 }, captureLog(), { dynamo: dynamo.doc, secrets: new SecretsManagerClient({ region: 'us-east-1' }) }));
      sm.on(GetSecretValueCommand).resolves({ SecretString: LAB_PEPPER });
      const warm = container();
      expect((await settle(warm(keyEvent(key)))).verdict).toBe('allow');

      sm.on(GetSecretValueCommand).rejects(Object.assign(new Error('Service unavailable'), { name: 'InternalServiceError' }));
      const outageStarted = Date.now();
      for (let i = 0; i < 30; i++) {
        const o = await settle(container()(keyEvent(key)));
        tally(F, 'failing: cold container', o.verdict);
        expect(o.verdict, JSON.stringify(o)).toBe('failure');
      }
      // The warm container keeps its ring for at most 12 refresh periods (1.2 s here), then denies.
      while (Date.now() - outageStarted < 1500) {
        const o = await settle(warm(keyEvent(key)));
        tally(F, 'failing: warm container, ring < 1.2 s old', o.verdict);
        await sleep(50);
      }
      for (let i = 0; i < 20; i++) {
        const o = await settle(warm(keyEvent(key)));
        tally(F, 'failing: warm container, ring stale', o.verdict);
        expect(o.verdict).toBe('failure');
      }
      // A JWT decision needs no pepper: unaffected (nothing to assert beyond the key decisions above).

      sm.on(GetSecretValueCommand).resolves({ SecretString: LAB_PEPPER });
      await recovery(() => settle(warm(keyEvent(key))), 2_000, (o) => tally(F, 'back: warm container', o.verdict));
      await recovery(() => settle(container()(keyEvent(key))), 2_000, (o) => tally(F, 'back: cold container', o.verdict));
      expect(figures[F]!['failing: cold container']!.allow + figures[F]!['failing: warm container, ring stale']!.allow).toBe(0);
    } finally {
      await dynamo.stop();
    }
  }, 20_000);
});
