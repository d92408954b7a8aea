// Secrets Manager cannot run here: it is mocked with aws-sdk-client-mock (the SDK client itself is real).
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DependencyError } from '../lambdas/core/errors.js';
import { parsePepperSecret, PepperProvider, SecretsManagerPepperSource } from '../lambdas/core/pepper.js';

const sm = mockClient(SecretsManagerClient);
afterEach(() => sm.reset());

const P1 = 'a'.repeat(40);
const P2 = 'b'.repeat(40);

function provider(now: { t: number }, options: Partial<ConstructorParameters<typeof PepperProvider>[1]> = {}) {
  return new PepperProvider(new SecretsManagerPepperSource(new SecretsManagerClient({ region: 'us-east-1' }), 'pepper'), {
    refreshSeconds: 300,
    maxStaleSeconds: 3600,
    now: () => now.t,
    ...options,
  });
}

describe('pepper ring', () => {
  it('parses a plain secret as version 1 and a JSON ring with a current version', () => {
    expect(parsePepperSecret(P1).currentVersion).toBe('1');
    const ring = parsePepperSecret(JSON.stringify({ current: 'v2', peppers: { v1: P1, v2: P2 } }));
    expect(ring.currentVersion).toBe('v2');
    expect(ring.peppers.get('v1')?.toString()).toBe(P1);
  });

  it.each([
    ['short', 'tiny-x'],
    ['bad JSON', '{nope'],
    ['current missing from ring', JSON.stringify({ current: 'v3', peppers: { v1: P1 } })],
    ['short version', JSON.stringify({ current: 'v1', peppers: { v1: 'x' } })],
  ])('refuses a %s secret without echoing it', (_n, text) => {
    expect(() => parsePepperSecret(text)).toThrow(/Pepper secret/);
    try {
      parsePepperSecret(text);
    } catch (e) {
      expect((e as Error).message).not.toContain(text.length > 3 ? text : '\u0000');
    }
  });

  it('loads once per container and refreshes when due', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: P1 });
    const now = { t: 0 };
    const p = provider(now);
    await Promise.all([p.current(), p.current(), p.current()]);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now.t = 299_000;
    await p.current();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now.t = 301_000;
    await p.current();
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('an unknown version forces one (rate-limited) refresh: a rotation reaches warm containers', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ current: 'v1', peppers: { v1: P1 } }) })
      .resolves({ SecretString: JSON.stringify({ current: 'v2', peppers: { v1: P1, v2: P2 } }) });
    const now = { t: 0 };
    const p = provider(now);
    expect((await p.pepperFor('v1'))?.toString()).toBe(P1);
    now.t = 1_000;
    expect((await p.pepperFor('v2'))?.toString()).toBe(P2);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(await p.pepperFor('v9')).toBeUndefined(); // forced refresh 1 s after the last one: refused
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    now.t = 11_000;
    expect(await p.pepperFor('v9')).toBeUndefined(); // one refresh…
    expect(await p.pepperFor('v9')).toBeUndefined(); // …and none again within the interval
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('fails closed with no ring, keeps a known ring through a short outage, and recovers by itself', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('ServiceUnavailable'));
    const now = { t: 0 };
    const errors: unknown[] = [];
    const p = provider(now, { onRefreshError: (e) => errors.push(e) });
    await expect(p.current()).rejects.toBeInstanceOf(DependencyError);
    expect(errors).toHaveLength(1);

    sm.reset();
    sm.on(GetSecretValueCommand).resolves({ SecretString: P1 });
    await expect(p.current()).resolves.toMatchObject({ currentVersion: '1' });

    sm.reset();
    sm.on(GetSecretValueCommand).rejects(new Error('ServiceUnavailable'));
    now.t = 301_000; // refresh due, Secrets Manager down: the known ring is kept…
    await expect(p.current()).resolves.toMatchObject({ currentVersion: '1' });
    now.t = 3_700_000; // …but not beyond maxStaleSeconds.
    await expect(p.current()).rejects.toBeInstanceOf(DependencyError);
  });
});
