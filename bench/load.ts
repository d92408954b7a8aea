/**
 * Part 4 — the local gateway under load (autocannon, loopback, time-bounded), beside a bare node http server that
 * answers the same bytes (status, headers, body) in the same process. autocannon runs in a worker thread, so the
 * servers keep the main thread's event loop to themselves. Cases run interleaved, in rounds, each round preceded
 * by a warm-up run whose numbers are discarded.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon, { type Result } from 'autocannon';
import { profileWhile, type ProfileSummary } from './profile.js';
import type { BenchStack } from './stack.js';

export interface LoadCase {
  readonly name: string;
  readonly url: string;
  readonly headers: Record<string, string>;
}

export interface LoadRow {
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  readonly latencyMaxMs: number;
  readonly responses2xx: number;
  readonly responses429: number;
  readonly otherNon2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly seconds: number;
}

export interface LoadResults {
  readonly connections: number;
  readonly warmupSeconds: number;
  readonly secondsPerRound: number;
  readonly rounds: number;
  readonly limits: Readonly<Record<string, string>>;
  readonly rows: readonly LoadRow[];
  /** CPU profile of the server's thread during an extra run of {@link profiledCase} (not counted above). */
  readonly profiledCase: string;
  readonly profile: ProfileSummary;
}

const DROP_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** One response of the gateway, to be replayed byte for byte by the bare server. */
async function capture(c: LoadCase): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const res = await fetch(c.url, { headers: c.headers });
  const body = Buffer.from(await res.arrayBuffer());
  const headers: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!DROP_HEADERS.has(name)) headers[name] = value;
  });
  if (res.status !== 200) throw new Error(`${c.name}: the gateway answered ${res.status}: ${body.toString()}`);
  return { status: res.status, headers, body };
}

async function bareServer(reply: { status: number; headers: Record<string, string>; body: Buffer }): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function run(c: LoadCase, seconds: number, connections: number): Promise<Result> {
  return autocannon({ url: c.url, headers: c.headers, duration: seconds, connections, workers: 1, timeout: 10 });
}

export async function runLoad(
  s: BenchStack,
  options: {
    seconds?: number;
    warmupSeconds?: number;
    rounds?: number;
    connections?: number;
    profileSeconds?: number;
    log?: (line: string) => void;
  } = {},
): Promise<LoadResults> {
  const seconds = options.seconds ?? 10;
  const warmup = options.warmupSeconds ?? 2;
  const rounds = options.rounds ?? 2;
  const connections = options.connections ?? 10;
  const perRound = Math.max(1, Math.round(seconds / rounds));

  const { key } = await s.createKey('load', ['items:read']);
  const jwt = await s.machineToken();
  const gateway: LoadCase[] = [
    { name: 'GET /health (public) via the local gateway', url: `${s.baseUrl}/health`, headers: {} },
    { name: 'GET /v1/whoami, API key, via the local gateway', url: `${s.baseUrl}/v1/whoami`, headers: { 'x-api-key': key } },
    { name: 'GET /v1/whoami, JWT (local OIDC), via the local gateway', url: `${s.baseUrl}/v1/whoami`, headers: { authorization: `Bearer ${jwt}` } },
  ];
  const healthBytes = await capture(gateway[0]!);
  const whoamiBytes = await capture(gateway[1]!);
  await capture(gateway[2]!);
  const bareWhoami = await bareServer(whoamiBytes);
  const bareHealth = await bareServer(healthBytes);
  const cases: LoadCase[] = [
    { name: 'bare node http, the same /v1/whoami bytes', url: `${bareWhoami.url}/v1/whoami`, headers: { 'x-api-key': key } },
    ...gateway,
    { name: 'bare node http, the same /health bytes', url: `${bareHealth.url}/health`, headers: {} },
  ];

  const results = cases.map(() => [] as Result[]);
  let profile: ProfileSummary;
  try {
    for (let r = 0; r < rounds; r++) {
      for (let k = 0; k < cases.length; k++) {
        const i = (k + r) % cases.length;
        const c = cases[i]!;
        options.log?.(`load: round ${r + 1}/${rounds}: ${c.name} (${warmup} s warm-up + ${perRound} s)…`);
        if (warmup > 0) await run(c, warmup, connections);
        results[i]!.push(await run(c, perRound, connections));
      }
    }
    options.log?.(`load: profiling the server during ${options.profileSeconds ?? 4} s of ${gateway[1]!.name}…`);
    profile = (await profileWhile(() => run(gateway[1]!, options.profileSeconds ?? 4, connections))).summary;
  } finally {
    await Promise.all([bareWhoami.server, bareHealth.server].map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
  }

  const rows = cases.map((c, i): LoadRow => {
    const rs = results[i]!;
    const sum = (f: (x: Result) => number) => rs.reduce((a, x) => a + f(x), 0);
    const secs = sum((x) => x.duration);
    const count429 = sum((x) => x.statusCodeStats?.['429']?.count ?? 0);
    return {
      name: c.name,
      requestsPerSecond: sum((x) => x['2xx']) / secs,
      latencyP50Ms: Math.max(...rs.map((x) => x.latency.p50)),
      latencyP99Ms: Math.max(...rs.map((x) => x.latency.p99)),
      latencyMaxMs: Math.max(...rs.map((x) => x.latency.max)),
      responses2xx: sum((x) => x['2xx']),
      responses429: count429,
      otherNon2xx: sum((x) => x.non2xx) - count429,
      errors: sum((x) => x.errors),
      timeouts: sum((x) => x.timeouts),
      seconds: secs,
    };
  });
  return { connections, warmupSeconds: warmup, secondsPerRound: perRound, rounds, limits: s.env, rows, profiledCase: gateway[1]!.name, profile };
}
