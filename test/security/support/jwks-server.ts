/**
 * A JWKS endpoint on loopback whose behaviour a test controls: serve, answer slowly (beyond any sane timeout),
 * answer 500, or be down altogether (the port closed, connections refused) and come back on the same port.
 * Every request is recorded, so a test can prove an endpoint was (or was never) contacted.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type JwksMode = 'ok' | 'slow' | 'error';

export interface JwksServer {
  readonly origin: string;
  readonly jwksUri: string;
  /** Every request path received, in order. */
  readonly hits: string[];
  mode: JwksMode;
  keys: Record<string, unknown>[];
  /** Closes the port (clients get ECONNREFUSED) until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startJwksServer(keys: Record<string, unknown>[] = [], path = '/.well-known/jwks.json'): Promise<JwksServer> {
  const hits: string[] = [];
  const state: { mode: JwksMode; keys: Record<string, unknown>[] } = { mode: 'ok', keys };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    hits.push(req.url ?? '');
    if (state.mode === 'slow') return; // accept, never answer: the client's timeout must end it
    if (state.mode === 'error') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  };
  let server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  let listening = true;

  const stop = async () => {
    if (!listening) return;
    listening = false;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const start = async () => {
    if (listening) return;
    server = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    listening = true;
  };
  return {
    origin,
    jwksUri: `${origin}${path}`,
    hits,
    get mode() {
      return state.mode;
    },
    set mode(mode: JwksMode) {
      state.mode = mode;
      if (mode !== 'slow') server.closeAllConnections();
    },
    get keys() {
      return state.keys;
    },
    set keys(k: Record<string, unknown>[]) {
      state.keys = k;
    },
    stop,
    start,
    close: stop,
  };
}
