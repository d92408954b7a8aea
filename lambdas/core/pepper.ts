/**
 * The pepper ring: the HMAC keys that API-key hashes are computed with.
 *
 * The secret holds either one string (version "1") or JSON `{"current":"v2","peppers":{"v1":"…","v2":"…"}}`,
 * so the pepper can be rotated without invalidating issued keys: new keys are hashed with `current`,
 * each key record remembers its version, and old versions stay until their keys are gone.
 *
 * Loaded once per container and refreshed every `refreshSeconds`. A key whose version this container has not
 * seen forces one refresh (rate-limited), which is how a rotation reaches warm containers at once.
 * If a refresh fails the last good ring is kept for at most `maxStaleSeconds` (a Secrets Manager blip must not
 * lock every client out); with no good ring at all, every key decision fails — closed.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DependencyError } from './errors.js';

export interface PepperRing {
  readonly currentVersion: string;
  readonly peppers: ReadonlyMap<string, Buffer>;
}

/** Where the ring comes from. Implementations do I/O; the provider does caching and policy. */
export interface PepperSource {
  load(): Promise<PepperRing>;
}

const MIN_PEPPER_LENGTH = 32;

export class PepperFormatError extends Error {
  constructor(message: string) {
    super(`Pepper secret: ${message}`);
    this.name = 'PepperFormatError';
  }
}

/** Parses the secret's text. Never includes the text itself in an error. */
export function parsePepperSecret(text: string): PepperRing {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) {
    if (trimmed.length < MIN_PEPPER_LENGTH) throw new PepperFormatError(`shorter than ${MIN_PEPPER_LENGTH} characters`);
    return { currentVersion: '1', peppers: new Map([['1', Buffer.from(trimmed, 'utf8')]]) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    throw new PepperFormatError('not valid JSON');
  }
  const { current, peppers } = (parsed ?? {}) as { current?: unknown; peppers?: unknown };
  if (typeof current !== 'string' || typeof peppers !== 'object' || peppers === null) {
    throw new PepperFormatError('expected {"current": string, "peppers": {version: string}}');
  }
  const map = new Map<string, Buffer>();
  for (const [version, value] of Object.entries(peppers)) {
    if (typeof value !== 'string' || value.length < MIN_PEPPER_LENGTH) {
      throw new PepperFormatError(`version ${version} is not a string of at least ${MIN_PEPPER_LENGTH} characters`);
    }
    map.set(version, Buffer.from(value, 'utf8'));
  }
  if (!map.has(current)) throw new PepperFormatError(`current version ${current} is not among the peppers`);
  return { currentVersion: current, peppers: map };
}

export class SecretsManagerPepperSource implements PepperSource {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  async load(): Promise<PepperRing> {
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    if (out.SecretString === undefined) throw new PepperFormatError('has no SecretString');
    return parsePepperSecret(out.SecretString);
  }
}

/** A pepper given directly (the local stack and tests only). */
export class StaticPepperSource implements PepperSource {
  private readonly ring: PepperRing;
  constructor(secretText: string) {
    this.ring = parsePepperSecret(secretText);
  }
  load(): Promise<PepperRing> {
    return Promise.resolve(this.ring);
  }
}

export interface PepperProviderOptions {
  refreshSeconds: number;
  maxStaleSeconds: number;
  /** Least time between two refreshes forced by an unknown version. */
  forcedRefreshIntervalSeconds?: number;
  now?: () => number;
  onRefreshError?: (error: unknown) => void;
}

export class PepperProvider {
  private ring: PepperRing | undefined;
  private loadedAt = -Infinity;
  private lastForcedAt = -Infinity;
  private inflight: Promise<PepperRing> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly source: PepperSource,
    private readonly options: PepperProviderOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The current ring; refreshes when due. Throws DependencyError when no usable ring exists. */
  async current(): Promise<PepperRing> {
    const age = this.now() - this.loadedAt;
    if (this.ring && age < this.options.refreshSeconds * 1000) return this.ring;
    // Due but still usable: refresh in the background so no request waits on Secrets Manager (failures are
    // reported through onRefreshError and the known ring stays within maxStaleSeconds).
    if (this.ring && age < this.options.maxStaleSeconds * 1000) {
      this.refresh().catch(() => undefined);
      return this.ring;
    }
    return this.refresh();
  }

  /** The pepper of one version, refreshing once if this container has not seen that version yet. */
  async pepperFor(version: string): Promise<Buffer | undefined> {
    const ring = await this.current();
    const found = ring.peppers.get(version);
    if (found) return found;
    const interval = (this.options.forcedRefreshIntervalSeconds ?? 10) * 1000;
    if (this.now() - this.lastForcedAt < interval) return undefined;
    this.lastForcedAt = this.now();
    return (await this.refresh()).peppers.get(version);
  }

  private refresh(): Promise<PepperRing> {
    // One load at a time: concurrent invocations share it instead of stampeding Secrets Manager.
    this.inflight ??= this.source
      .load()
      .then((ring) => {
        this.ring = ring;
        this.loadedAt = this.now();
        return ring;
      })
      .catch((error: unknown) => {
        this.options.onRefreshError?.(error);
        const staleFor = this.now() - this.loadedAt;
        if (this.ring && staleFor < this.options.maxStaleSeconds * 1000) return this.ring;
        throw new DependencyError('pepper', error);
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
