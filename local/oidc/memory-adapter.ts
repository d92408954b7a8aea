/**
 * A per-instance, bounded in-memory store for oidc-provider. (The built-in MemoryAdapter shares one module-level
 * cache between every Provider in the process — tests start several — and prints a warning on each start.)
 *
 * Anyone who can reach the provider can make it store things without signing in: every `GET /oauth2/authorize`
 * saves an Interaction, every pushed authorization request a PushedAuthorizationRequest. So the store is bounded,
 * per model (Interaction, Session, Grant, AuthorizationCode, RefreshToken, …):
 * - every entry lives at most the `expiresIn` oidc-provider gives with it (its TTL for that model);
 * - each model keeps at most {@link DEFAULT_MAX_ENTRIES_PER_MODEL} entries and {@link DEFAULT_MAX_BYTES_PER_MODEL}
 *   characters of payload JSON. Past either bound, expired entries go first, then the least recently used ones.
 *   A flood therefore costs the flooder's own oldest interactions (and, at worst, a real user's pending login,
 *   which they start again), never unbounded memory.
 * Expired entries are removed when met, when a model is over a bound (a full pass over that model at most once a
 * second), and in a pass over every model at most once a minute.
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';

/** Entries one model keeps at most (a local stack has a handful of users; this is generous). */
export const DEFAULT_MAX_ENTRIES_PER_MODEL = 2_000;
/** Characters of payload JSON one model keeps at most (a request can carry up to 56 KB of parameters). */
export const DEFAULT_MAX_BYTES_PER_MODEL = 8 * 1024 * 1024;
/** A pass over every model for expired entries runs at most this often. */
export const SWEEP_INTERVAL_MS = 60_000;
/** A model over a bound is searched for expired entries at most this often; between passes it evicts by age. */
const OVER_BOUND_SWEEP_MS = 1_000;

export interface MemoryAdapterOptions {
  /** Default {@link DEFAULT_MAX_ENTRIES_PER_MODEL}. */
  readonly maxEntriesPerModel?: number;
  /** Default {@link DEFAULT_MAX_BYTES_PER_MODEL}. */
  readonly maxBytesPerModel?: number;
  /** Epoch milliseconds; tests inject a clock. */
  readonly now?: () => number;
}

export interface MemoryStoreStats {
  /** Live entries per model (models never written are absent). */
  readonly entries: Readonly<Record<string, number>>;
  /** Payload JSON characters per model. */
  readonly bytes: Readonly<Record<string, number>>;
  /** Grants with at least one indexed member. */
  readonly grantIndex: number;
  /** Session uids indexed. */
  readonly uidIndex: number;
}

/** oidc-provider's `adapter` option, plus a look at what the store holds. */
export interface MemoryAdapterFactory {
  (model: string): Adapter;
  /** Removes every expired entry, then counts what is left. */
  stats(): MemoryStoreStats;
}

interface Entry {
  readonly payload: AdapterPayload;
  /** Epoch ms; Infinity when oidc-provider gave no TTL. */
  readonly expiresAt: number;
  readonly bytes: number;
  readonly grantId?: string;
  readonly uid?: string;
}

interface ModelStore {
  /** Map order is recency: least recently used first. */
  readonly entries: Map<string, Entry>;
  bytes: number;
  lastOverBoundSweep: number;
}

function checkedBound(value: number | undefined, fallback: number, name: string): number {
  const bound = value ?? fallback;
  if (!Number.isInteger(bound) || bound < 1) throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  return bound;
}

/** The store behind every model of one provider. Pure bookkeeping: the clock is passed in. */
class BoundedStore {
  private readonly models = new Map<string, ModelStore>();
  /** grantId → members as [model, id]; so revoking a grant removes its codes and tokens. */
  private readonly grants = new Map<string, Map<string, readonly [string, string]>>();
  /** Session uid → session id. */
  private readonly uids = new Map<string, string>();
  private lastSweep: number;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
    readonly now: () => number,
  ) {
    this.lastSweep = now();
  }

  private model(name: string): ModelStore {
    let store = this.models.get(name);
    if (store === undefined) {
      store = { entries: new Map(), bytes: 0, lastOverBoundSweep: -Infinity };
      this.models.set(name, store);
    }
    return store;
  }

  private remove(model: string, store: ModelStore, id: string): void {
    const entry = store.entries.get(id);
    if (entry === undefined) return;
    store.entries.delete(id);
    store.bytes -= entry.bytes;
    if (entry.grantId !== undefined) {
      const members = this.grants.get(entry.grantId);
      members?.delete(`${model}\0${id}`);
      if (members?.size === 0) this.grants.delete(entry.grantId);
    }
    if (entry.uid !== undefined && this.uids.get(entry.uid) === id) this.uids.delete(entry.uid);
  }

  private sweepModel(model: string, store: ModelStore, nowMs: number): void {
    for (const [id, entry] of store.entries) if (entry.expiresAt <= nowMs) this.remove(model, store, id);
  }

  private sweepAll(nowMs: number): void {
    this.lastSweep = nowMs;
    for (const [model, store] of this.models) this.sweepModel(model, store, nowMs);
  }

  /** Every operation calls this: the once-a-minute pass, so expired entries of idle models go too. */
  private tick(): number {
    const nowMs = this.now();
    if (nowMs - this.lastSweep >= SWEEP_INTERVAL_MS) this.sweepAll(nowMs);
    return nowMs;
  }

  private overBound(store: ModelStore): boolean {
    return store.entries.size > this.maxEntries || store.bytes > this.maxBytes;
  }

  set(model: string, id: string, payload: AdapterPayload, expiresInSeconds: number | undefined): void {
    const nowMs = this.tick();
    const store = this.model(model);
    this.remove(model, store, id);
    const grantId = typeof payload.grantId === 'string' ? payload.grantId : undefined;
    // Sessions are found by uid; no other model is.
    const uid = model === 'Session' && typeof payload.uid === 'string' ? payload.uid : undefined;
    const entry: Entry = {
      payload,
      expiresAt: typeof expiresInSeconds === 'number' ? nowMs + expiresInSeconds * 1000 : Infinity,
      bytes: JSON.stringify(payload).length,
      ...(grantId === undefined ? {} : { grantId }),
      ...(uid === undefined ? {} : { uid }),
    };
    store.entries.set(id, entry);
    store.bytes += entry.bytes;
    if (grantId !== undefined) {
      let members = this.grants.get(grantId);
      if (members === undefined) {
        members = new Map();
        this.grants.set(grantId, members);
      }
      members.set(`${model}\0${id}`, [model, id]);
    }
    if (uid !== undefined) this.uids.set(uid, id);

    if (!this.overBound(store)) return;
    // Expired entries go before live ones; the pass is rate-limited so a flood costs O(1) per write on average.
    if (nowMs - store.lastOverBoundSweep >= OVER_BOUND_SWEEP_MS) {
      store.lastOverBoundSweep = nowMs;
      this.sweepModel(model, store, nowMs);
    }
    for (const oldest of store.entries.keys()) {
      if (!this.overBound(store)) break;
      this.remove(model, store, oldest);
    }
  }

  /** The live payload, now the most recently used; undefined (and gone) when expired. */
  get(model: string, id: string): AdapterPayload | undefined {
    const nowMs = this.tick();
    const store = this.models.get(model);
    const entry = store?.entries.get(id);
    if (store === undefined || entry === undefined) return undefined;
    if (entry.expiresAt <= nowMs) {
      this.remove(model, store, id);
      return undefined;
    }
    store.entries.delete(id);
    store.entries.set(id, entry);
    return entry.payload;
  }

  sessionIdOfUid(uid: string): string | undefined {
    return this.uids.get(uid);
  }

  delete(model: string, id: string): void {
    this.tick();
    const store = this.models.get(model);
    if (store !== undefined) this.remove(model, store, id);
  }

  deleteGrant(grantId: string): void {
    this.tick();
    const members = this.grants.get(grantId);
    if (members === undefined) return;
    for (const [model, id] of [...members.values()]) {
      const store = this.models.get(model);
      if (store !== undefined) this.remove(model, store, id);
    }
    this.grants.delete(grantId);
  }

  stats(): MemoryStoreStats {
    this.sweepAll(this.now());
    const entries: Record<string, number> = {};
    const bytes: Record<string, number> = {};
    for (const [model, store] of this.models) {
      if (store.entries.size === 0) continue;
      entries[model] = store.entries.size;
      bytes[model] = store.bytes;
    }
    return { entries, bytes, grantIndex: this.grants.size, uidIndex: this.uids.size };
  }
}

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: BoundedStore,
  ) {}

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.store.set(this.model, id, payload, expiresIn);
    return Promise.resolve();
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(this.store.get(this.model, id));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.store.sessionIdOfUid(uid);
    return Promise.resolve(id === undefined ? undefined : this.store.get(this.model, id));
  }

  findByUserCode(): Promise<AdapterPayload | undefined> {
    return Promise.resolve(undefined); // device flow is not enabled
  }

  consume(id: string): Promise<void> {
    const payload = this.store.get(this.model, id);
    if (payload) payload.consumed = Math.floor(this.store.now() / 1000);
    return Promise.resolve();
  }

  destroy(id: string): Promise<void> {
    this.store.delete(this.model, id);
    return Promise.resolve();
  }

  revokeByGrantId(grantId: string): Promise<void> {
    this.store.deleteGrant(grantId);
    return Promise.resolve();
  }
}

/** A factory for oidc-provider's `adapter` option whose models share one private, bounded store. */
export function createMemoryAdapter(options: MemoryAdapterOptions = {}): MemoryAdapterFactory {
  const store = new BoundedStore(
    checkedBound(options.maxEntriesPerModel, DEFAULT_MAX_ENTRIES_PER_MODEL, 'maxEntriesPerModel'),
    checkedBound(options.maxBytesPerModel, DEFAULT_MAX_BYTES_PER_MODEL, 'maxBytesPerModel'),
    options.now ?? Date.now,
  );
  // An arrow function: oidc-provider calls it (it `new`s only functions with a prototype, i.e. classes).
  const factory = (model: string): Adapter => new MemoryAdapter(model, store);
  return Object.assign(factory, { stats: () => store.stats() });
}
