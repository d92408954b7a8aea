/**
 * A team's existing HTTP service, for `http` targets: a real node:http server on 127.0.0.1:0 that records every
 * request it receives (method, path with query, raw headers, body) and answers with an echo of it. A path ending
 * in `/hang` is never answered (integration timeouts); `/drop` closes the connection without an answer.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly url: string;
  /** Node's rawHeaders: name, value, name, value… */
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

export interface EchoUpstream {
  readonly url: string;
  readonly received: ReceivedRequest[];
  /** Every value of a header (case-insensitive) in a received request. */
  headerValues(request: ReceivedRequest, name: string): string[];
  close(): Promise<void>;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const request: ReceivedRequest = { method: req.method ?? '', url: req.url ?? '', rawHeaders: [...req.rawHeaders], body };
      received.push(request);
      const path = request.url.split('?')[0] ?? '';
      if (path.endsWith('/hang')) return;
      if (path.endsWith('/drop')) {
        req.socket.destroy();
        return;
      }
      res.writeHead(201, {
        'Content-Type': 'application/json',
        'X-Upstream': 'echo',
        // Hop-by-hop headers of this connection: never the client's business.
        'Keep-Alive': 'timeout=5',
        Connection: 'keep-alive, X-Upstream-Hop',
        'X-Upstream-Hop': 'connection-only',
      });
      res.end(JSON.stringify(request));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    headerValues: (request, name) => {
      const out: string[] = [];
      for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) if (request.rawHeaders[i]!.toLowerCase() === name.toLowerCase()) out.push(request.rawHeaders[i + 1]!);
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
