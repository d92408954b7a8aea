/**
 * An in-process CPU profile (node:inspector, the same profiler as `node --cpu-prof`) taken while a function runs,
 * summarised as self time per part of the system, so that the report can say where the time went.
 */
import { Session, type Profiler } from 'node:inspector';

export interface ProfileSummary {
  /** Part of the system (see {@link owner}) → share of all samples (0–1), largest first. */
  readonly categories: readonly { readonly name: string; readonly share: number }[];
  /** Functions with the most self time: "name (file:line)" → share. */
  readonly top: readonly { readonly name: string; readonly share: number }[];
  readonly samples: number;
}

const COMPONENTS: readonly [string, RegExp][] = [
  ['authorizer (lambdas/authorizer, lambdas/core, aws-jwt-verify, lru-cache)', /\/lambdas\/(authorizer|core)\/|aws-jwt-verify|lru-cache/],
  ['API handlers (lambdas/api, middy, Powertools logger)', /\/lambdas\/api\/|@middy|@aws-lambda-powertools/],
  ['local gateway emulation (local/)', /\/local\//],
  ['AWS SDK and dynalite', /@aws-sdk|@smithy|dynalite|leveldown|memdown|levelup/],
  ['benchmark harness (bench/, autocannon)', /\/bench\/|autocannon/],
];

/**
 * The part of the system a sample belongs to: the nearest frame, from the leaf up, that is Gatehouse's, a
 * dependency's or the local stack's code. Node internals and native work (hashing, socket writes) count for the
 * code that called them; what no such frame calls (the HTTP parser, the event loop) is Node's own.
 */
function owner(node: Profiler.ProfileNode, parentOf: Map<number, Profiler.ProfileNode>): string {
  const name = node.callFrame.functionName;
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'V8 (program)';
  for (let n: Profiler.ProfileNode | undefined = node; n !== undefined; n = parentOf.get(n.id)) {
    for (const [component, re] of COMPONENTS) if (re.test(n.callFrame.url)) return component;
  }
  return 'Node itself: HTTP parsing, sockets, event loop';
}

export async function profileWhile<T>(run: () => Promise<T>, intervalUs = 200): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (error, out) => (error ? reject(error) : resolve(out as R))));
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: intervalUs });
  await post('Profiler.start');
  let result: T;
  let profile: Profiler.Profile;
  try {
    result = await run();
  } finally {
    profile = (await post<{ profile: Profiler.Profile }>('Profiler.stop')).profile;
    await post('Profiler.disable');
    session.disconnect();
  }

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, Profiler.ProfileNode>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n);
  const counts = new Map<number, number>();
  for (const id of profile.samples ?? []) counts.set(id, (counts.get(id) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const cats = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, n] of counts) {
    const node = byId.get(id)!;
    const cat = owner(node, parentOf);
    cats.set(cat, (cats.get(cat) ?? 0) + n);
    const { functionName, url, lineNumber } = node.callFrame;
    const label = `${functionName || '(anonymous)'} (${url.split('/').slice(-2).join('/') || 'native'}${url ? `:${lineNumber + 1}` : ''})`;
    fns.set(label, (fns.get(label) ?? 0) + n);
  }
  const sorted = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, n]) => ({ name, share: total === 0 ? 0 : n / total }));
  return { result, summary: { categories: sorted(cats, 20), top: sorted(fns, 12), samples: total } };
}
