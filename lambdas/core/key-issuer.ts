/**
 * Issues a new API key: generates it, hashes it with the current pepper, stores the record. The plaintext
 * leaves this function once, to be shown to the caller once; it is never stored or logged.
 */
import { generateApiKey, type KeyEnvironment } from './api-key.js';
import { hashApiKey } from './key-hash.js';
import type { KeyRecord } from './key-record.js';
import { KeyExistsError } from './key-store.js';
import type { PepperRing } from './pepper.js';
import type { Scope } from './scopes.js';

export interface IssueKeyInput {
  readonly tenant: string;
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly createdBy: string;
  readonly expiresAt?: string;
  readonly rotatedFrom?: string;
  /** The bootstrap admin key only. */
  readonly admin?: true;
}

export interface KeyWriter {
  create(record: KeyRecord): Promise<void>;
}

export interface KeyIssuerDeps {
  readonly store: KeyWriter;
  readonly peppers: { current(): Promise<PepperRing> };
  readonly environment: KeyEnvironment;
  readonly now?: () => number;
}

export async function issueKey(deps: KeyIssuerDeps, input: IssueKeyInput): Promise<{ key: string; record: KeyRecord }> {
  const ring = await deps.peppers.current();
  const pepper = ring.peppers.get(ring.currentVersion)!;
  // 12 base62 characters: a collision is astronomically unlikely, but a conditional write makes it harmless.
  for (let attempt = 0; ; attempt++) {
    const { id, key } = generateApiKey(deps.environment);
    const record: KeyRecord = {
      id,
      tenant: input.tenant,
      name: input.name,
      scopes: [...input.scopes],
      env: deps.environment,
      hash: hashApiKey(key, pepper),
      pepperVersion: ring.currentVersion,
      createdBy: input.createdBy,
      createdAt: new Date((deps.now ?? Date.now)()).toISOString(),
      ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
      ...(input.rotatedFrom === undefined ? {} : { rotatedFrom: input.rotatedFrom }),
      ...(input.admin ? { admin: true as const } : {}),
    };
    try {
      await deps.store.create(record);
      return { key, record };
    } catch (error) {
      if (!(error instanceof KeyExistsError) || attempt >= 2) throw error;
    }
  }
}
