/** The shapes a route operation sees: a parsed request in, a plain response out. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { Principal } from '../../core/principal.js';

export interface ApiRequest<TBody = unknown> {
  readonly event: APIGatewayProxyEvent;
  /** Present on every `token` and `iam` route (the handler refuses the request otherwise). */
  readonly principal: Principal;
  readonly body: TBody;
  readonly pathParameters: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  /** Header lookup by lower-case name. */
  header(name: string): string | undefined;
  readonly requestId: string;
  readonly sourceIp?: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export const json = (status: number, body: unknown, headers?: Record<string, string>): ApiResponse => ({
  status,
  body,
  ...(headers ? { headers } : {}),
});

export const noContent = (): ApiResponse => ({ status: 204 });
