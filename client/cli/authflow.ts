/**
 * How the authorization code of `gatehouse login` reaches the CLI: the loopback redirect (the browser runs on this
 * machine), or the person pasting the address the browser ended on (it runs elsewhere: SSH, a container). Both are
 * awaited together and the first to arrive wins; the other is stopped. A timeout bounds the wait.
 */
import { DEFAULT_REDIRECT_URI, OidcError, parseLoopbackRedirect, startLoopbackReceiver, type LoopbackReceiver } from '../oidc.js';
import { parsePastedRedirect } from '../pasted-redirect.js';

export interface CodeSource {
  /** Undefined when nothing could listen (the port is taken): then only a paste can finish the login. */
  receiver: LoopbackReceiver | undefined;
  redirectUri: string;
  /** Why there is no receiver, for the person. */
  busy?: OidcError;
}

/**
 * Starts the loopback receiver. When its fixed port is taken, a login that accepts a paste goes on without one
 * (the redirect URI stays the registered one: the browser elsewhere is sent there either way); otherwise that is
 * the error, with the way out.
 */
export async function openCodeSource(options: { state: string; callbackUrl?: string; port?: number; timeoutMs: number; acceptPaste: boolean }): Promise<CodeSource> {
  try {
    const receiver = await startLoopbackReceiver({
      state: options.state,
      ...(options.callbackUrl ? { redirectUri: options.callbackUrl } : {}),
      ...(options.port === undefined ? {} : { port: options.port }),
      timeoutMs: options.timeoutMs,
    });
    return { receiver, redirectUri: receiver.redirectUri };
  } catch (error) {
    if (!(error instanceof OidcError) || error.error !== 'port_in_use') throw error;
    if (!options.acceptPaste) {
      throw new OidcError('port_in_use', `${error.description ?? 'the port is in use'}; \`gatehouse login --no-browser\` can finish by pasting the redirect URL instead`);
    }
    const target = parseLoopbackRedirect(options.callbackUrl ?? DEFAULT_REDIRECT_URI);
    return { receiver: undefined, redirectUri: `http://${target.hostname}:${options.port ?? target.port}${target.pathname}`, busy: error };
  }
}

/** The first code pasted on `lines` (blank lines skipped); undefined when the input ends first. */
async function readPastedCode(lines: AsyncIterable<string>, state: string): Promise<string | undefined> {
  const iterator = lines[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<string>;
      try {
        next = await iterator.next();
      } catch {
        return undefined; // input that cannot be read (no terminal, closed descriptor) is input that ended
      }
      if (next.done) return undefined;
      const pasted = parsePastedRedirect(next.value, state);
      if (pasted) return pasted.code;
    }
  } finally {
    await iterator.return?.();
  }
}

export type CodeVia = 'loopback' | 'paste';

/**
 * The code, from whichever source delivers first. A bad paste (another login's state, an error redirect, not a
 * code) ends the login: the person pasted it on purpose, so waiting on would hide the mistake. The end of input
 * without a paste is no answer: the loopback may still deliver (when there is one).
 */
export async function waitForCode(options: {
  source: CodeSource;
  state: string;
  timeoutMs: number;
  readLines?: (signal: AbortSignal) => AsyncIterable<string>;
}): Promise<{ code: string; via: CodeVia }> {
  const { receiver } = options.source;
  const stop = new AbortController();
  const contenders: Promise<{ code: string; via: CodeVia }>[] = [];
  if (receiver) contenders.push(receiver.code.then((code) => ({ code, via: 'loopback' as const })));
  if (options.readLines) {
    const readLines = options.readLines;
    contenders.push(
      readPastedCode(readLines(stop.signal), options.state).then((code) => {
        if (code !== undefined) return { code, via: 'paste' as const };
        if (receiver) return new Promise<never>(() => undefined);
        throw new OidcError('no_code', 'standard input ended before a URL or code was pasted (and nothing can listen for the redirect)');
      }),
    );
  }
  contenders.push(
    new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new OidcError('timeout', `no sign-in within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs);
      stop.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    }),
  );
  try {
    return await Promise.race(contenders);
  } finally {
    stop.abort();
  }
}
