/**
 * A `fetch` that presents a client certificate (mutual TLS) and may trust an extra CA: what the client uses when it
 * is given `tls` (GatehouseClientOptions.tls, the CLI's --cert/--key/--cacert and profile settings). Node's global
 * fetch takes no certificate without an undici dispatcher from a separate package, so this speaks HTTPS through
 * node:https itself. It implements what the client sends: method, headers, a string body, an AbortSignal, no
 * redirects followed; the answer is a standard Response. Only https: a certificate is never offered in clear text.
 */
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface ClientTls {
  /** The client certificate (PEM), and its private key (PEM). Give both, or neither (then only `ca` applies). */
  readonly cert?: string | Buffer;
  readonly key?: string | Buffer;
  /** CAs to trust for the server's certificate, instead of the system's (the local stack's CA). */
  readonly ca?: string | Buffer;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

function collect(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks)));
    res.once('error', reject);
  });
}

export function tlsFetch(tls: ClientTls): typeof fetch {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError('tls.cert and tls.key go together');
  return (async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input.toString());
    if (url.protocol !== 'https:') throw new TypeError(`a client certificate is only ever sent over https (not to ${url.origin})`);
    const headers = new Headers(init.headers);
    const body = init.body === undefined || init.body === null ? undefined : typeof init.body === 'string' ? init.body : undefined;
    if (init.body !== undefined && init.body !== null && body === undefined) throw new TypeError('tlsFetch sends string bodies only');
    if (body !== undefined) headers.set('content-length', String(Buffer.byteLength(body)));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) throw abortError(signal);
    return new Promise<Response>((resolve, reject) => {
      const req = request(url, {
        method: init.method ?? 'GET',
        headers: Object.fromEntries(headers),
        ...(tls.cert !== undefined ? { cert: tls.cert, key: tls.key } : {}),
        ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
        // No shared agent: no idle keep-alive socket outlives the call (a CLI command exits when it is done).
        agent: false,
      });
      const onAbort = () => req.destroy(abortError(signal!) as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      req.once('response', (res) => {
        collect(res).then(
          (buffer) => {
            signal?.removeEventListener('abort', onAbort);
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) {
              for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
            }
            const status = res.statusCode ?? 502;
            const nullBody = status === 204 || status === 304 || (init.method ?? 'GET').toUpperCase() === 'HEAD';
            resolve(new Response(nullBody ? null : new Uint8Array(buffer), { status, statusText: res.statusMessage ?? '', headers: responseHeaders }));
          },
          (error: unknown) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error instanceof Error ? error : new Error(String(error)));
          },
        );
      });
      req.end(body);
    });
  });
}
