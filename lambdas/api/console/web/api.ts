/**
 * Calls to the API from the console: same origin, the person's access token as a Bearer credential, and every
 * answer that is not a success turned into words — the error envelope's title and detail, the fields it names, the
 * request id to quote, and for 429 when to retry. A 401 means the session is gone: the console keeps what was typed
 * and sends the person to sign in again.
 */
import type { ConsoleConfig, ConsoleOperation } from '../config.js';
import { Auth } from './auth.js';

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** An answer of the API that is not a success, in the words of its error envelope. */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly requestId?: string,
    /** From Retry-After (429, 503). */
    readonly retryAfterSeconds?: number,
    readonly fields: readonly FieldProblem[] = [],
  ) {
    super(`${title}: ${detail}`);
  }
}

/** The session ended (the API answered 401); the console is on its way to the sign-in. */
export class SessionLost extends Error {
  override readonly name = 'SessionLost';
}

export interface CallOptions {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly body?: unknown;
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

async function problemOf(response: Response): Promise<ApiProblem> {
  const seconds = retryAfter(response.headers.get('Retry-After'));
  const requestId = response.headers.get('x-amzn-RequestId') ?? undefined;
  const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const fields = Array.isArray(body?.errors)
    ? (body.errors as unknown[]).flatMap((e) => {
        const { field, message } = (e ?? {}) as { field?: unknown; message?: unknown };
        return typeof message === 'string' ? [{ field: typeof field === 'string' ? field : '', message }] : [];
      })
    : [];
  return new ApiProblem(
    response.status,
    text(body?.title) ?? `HTTP ${response.status}`,
    text(body?.detail) ?? text(body?.message) ?? 'The API gave no reason.',
    text(body?.requestId) ?? requestId,
    seconds,
    fields,
  );
}

export class Api {
  constructor(
    private readonly config: ConsoleConfig,
    /** The stage's base URL: origin and stage (e.g. `https://….amazonaws.com/prod`), without a trailing slash. */
    private readonly base: string,
    private readonly auth: Auth,
    private readonly onSessionLost: () => void,
  ) {}

  /** Whether this deployment serves the operation. */
  serves(operation: ConsoleOperation): boolean {
    return this.config.routes[operation] !== undefined;
  }

  /** The scope the operation's route needs (none: any signed-in person). */
  scopeOf(operation: ConsoleOperation): string | undefined {
    return this.config.routes[operation]?.scope;
  }

  async call<T>(operation: ConsoleOperation, options: CallOptions = {}): Promise<T> {
    const route = this.config.routes[operation];
    if (!route) throw new ApiProblem(404, 'Not available', 'This deployment does not serve that part of the API.');
    const path = route.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(options.params?.[name] ?? ''));
    const url = new URL(this.base + path);
    for (const [name, value] of Object.entries(options.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    const token = await this.auth.accessToken();
    if (token === undefined) return this.lost();
    let response: Response;
    try {
      response = await fetch(url, {
        method: route.method,
        headers: { Authorization: `Bearer ${token}`, ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new ApiProblem(0, 'The API could not be reached', 'Check the connection and try again.');
    }
    if (response.status === 401) return this.lost();
    if (!response.ok) throw await problemOf(response);
    Auth.sessionWorks();
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private lost(): never {
    this.auth.drop();
    this.onSessionLost();
    throw new SessionLost('The session ended; signing in again.');
  }
}
