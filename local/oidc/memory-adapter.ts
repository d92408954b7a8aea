// A per-instance in-memory store for oidc-provider. The built-in MemoryAdapter shares one module-level
// cache between every Provider in the process (tests start several) and prints a warning on each start.
import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number; // epoch ms; Infinity when the model has no TTL
}

type Store = Map<string, Entry>;

class MemoryAdapter implements Adapter {
  constructor(
    private readonly model: string,
    private readonly store: Store,
    private readonly grants: Map<string, Set<string>>,
    private readonly uids: Map<string, string>,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private get(key: string): AdapterPayload | undefined {
    const entry = this.store.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.store.delete(key);
      return undefined;
    }
    return entry?.payload;
  }

  upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.store.set(key, { payload, expiresAt });
    // Sessions are looked up by uid; tokens of one grant must all go when the grant is revoked.
    if (this.model === 'Session' && typeof payload.uid === 'string') this.uids.set(payload.uid, id);
    if (typeof payload.grantId === 'string') {
      const members = this.grants.get(payload.grantId) ?? new Set<string>();
      members.add(key);
      this.grants.set(payload.grantId, members);
    }
    return Promise.resolve();
  }

  find(id: string): Promise<AdapterPayload | undefined> {
    return Promise.resolve(this.get(this.key(id)));
  }

  findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const id = this.uids.get(uid);
    return Promise.resolve(id === undefined ? undefined : this.get(this.key(id)));
  }

  findByUserCode(): Promise<AdapterPayload | undefined> {
    return Promise.resolve(undefined); // device flow is not enabled
  }

  consume(id: string): Promise<void> {
    const payload = this.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    return Promise.resolve();
  }

  destroy(id: string): Promise<void> {
    this.store.delete(this.key(id));
    return Promise.resolve();
  }

  revokeByGrantId(grantId: string): Promise<void> {
    for (const key of this.grants.get(grantId) ?? []) this.store.delete(key);
    this.grants.delete(grantId);
    return Promise.resolve();
  }
}

/** A factory for oidc-provider's `adapter` option whose models share one private store. */
export function createMemoryAdapter(): (model: string) => Adapter {
  const store: Store = new Map();
  const grants = new Map<string, Set<string>>();
  const uids = new Map<string, string>();
  return (model) => new MemoryAdapter(model, store, grants, uids);
}
