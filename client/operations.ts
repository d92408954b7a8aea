/**
 * Every route of the one route table (`lambdas/routes.ts`) as a typed operation. Request and response types come
 * from the API's own zod schemas (`z.input` for what the client sends, `z.output` for what it receives), so they
 * cannot drift from the server; path parameters are read from the path template itself. Methods, paths, auth kinds
 * and scopes are taken from the route table at run time (see `routes.ts`); a test checks that the keys below are
 * exactly the table's routes.
 */
import type { z } from 'zod';

import type { auditListResponseSchema, auditQuerySchema } from '../lambdas/api/audit/schemas.js';
import type { healthView } from '../lambdas/api/health/operations.js';
import type { createItemBody, itemListView, itemView, listItemsQuery, replaceItemBody } from '../lambdas/api/items/schemas.js';
import type { createdKeyView, createKeyBody, keyView, listKeysQuery, rotateKeyBody, setPlanBody } from '../lambdas/api/keys/schemas.js';
import type { usageQuerySchema, usageResponseSchema } from '../lambdas/api/usage/schemas.js';
import type { verifyBody, verifyView } from '../lambdas/api/verify/schemas.js';
import type { whoamiView } from '../lambdas/api/whoami/schemas.js';

/** Query strings are strings on the wire; the client also takes numbers and lists (joined with commas). */
export type QueryInput<S extends z.ZodType> = {
  [K in keyof z.input<S>]?: z.input<S>[K] | number | readonly string[];
};

export type Health = z.output<typeof healthView>;
export type Whoami = z.output<typeof whoamiView>;
export type CreateKeyInput = z.input<typeof createKeyBody>;
export type CreatedKey = z.output<typeof createdKeyView>;
export type RotateKeyInput = z.input<typeof rotateKeyBody>;
export type SetKeyPlanInput = z.input<typeof setPlanBody>;
export type KeyView = z.output<typeof keyView>;
export type KeyList = { keys: KeyView[]; nextToken?: string };
export type ListKeysQuery = QueryInput<typeof listKeysQuery>;
export type UsageQuery = QueryInput<typeof usageQuerySchema>;
export type Usage = z.output<typeof usageResponseSchema>;
export type AuditQuery = QueryInput<typeof auditQuerySchema>;
export type AuditList = z.output<typeof auditListResponseSchema>;
export type ListItemsQuery = QueryInput<typeof listItemsQuery>;
export type ItemList = z.output<typeof itemListView>;
export type Item = z.output<typeof itemView>;
export type CreateItemInput = z.input<typeof createItemBody>;
export type ReplaceItemInput = z.input<typeof replaceItemBody>;
export type VerifyInput = z.input<typeof verifyBody>;
export type VerifyResult = z.output<typeof verifyView>;
/** The OpenAPI 3.1 document: not modelled further here. */
export type OpenApiDocument = Record<string, unknown>;
/** The browser console's page (HTML): a page for people, here so that every route has its operation. */
export type ConsolePage = string;
/** A console file: `config.json` as JSON, the others (script, stylesheet, icon) as text. */
export type ConsoleAsset = string | Record<string, unknown>;

interface Shape {
  body?: unknown;
  query?: unknown;
  response: unknown;
}
declare const shape: unique symbol;
/** A run-time marker whose only content is a type. */
export interface OperationSpec<T extends Shape> {
  readonly [shape]?: T;
}
const op = <T extends Shape>(): OperationSpec<T> => ({});

/** Keyed `METHOD /path/{param}` exactly as in the route table. */
export const OPERATIONS = {
  'GET /health': op<{ response: Health }>(),
  'GET /openapi.json': op<{ response: OpenApiDocument }>(),
  'GET /v1/whoami': op<{ response: Whoami }>(),
  'POST /v1/keys': op<{ body: CreateKeyInput; response: CreatedKey }>(),
  'GET /v1/keys': op<{ query: ListKeysQuery; response: KeyList }>(),
  'GET /v1/keys/{keyId}': op<{ response: KeyView }>(),
  'DELETE /v1/keys/{keyId}': op<{ response: undefined }>(),
  'POST /v1/keys/{keyId}/rotate': op<{ body: RotateKeyInput; response: CreatedKey }>(),
  'PUT /v1/keys/{keyId}/plan': op<{ body: SetKeyPlanInput; response: KeyView }>(),
  'GET /v1/usage': op<{ query: UsageQuery; response: Usage }>(),
  'GET /v1/audit': op<{ query: AuditQuery; response: AuditList }>(),
  'GET /v1/items': op<{ query: ListItemsQuery; response: ItemList }>(),
  'POST /v1/items': op<{ body: CreateItemInput; response: Item }>(),
  'GET /v1/items/{itemId}': op<{ response: Item }>(),
  'PUT /v1/items/{itemId}': op<{ body: ReplaceItemInput; response: Item }>(),
  'DELETE /v1/items/{itemId}': op<{ response: undefined }>(),
  'POST /v1/verify': op<{ body: VerifyInput; response: VerifyResult }>(),
  'GET /console': op<{ response: ConsolePage }>(),
  'GET /console/{asset}': op<{ response: ConsoleAsset }>(),
} as const;

export type OperationKey = keyof typeof OPERATIONS;
export type Operation<K extends OperationKey> = (typeof OPERATIONS)[K] extends OperationSpec<infer T> ? T : never;

type PathOf<K extends string> = K extends `${string} ${infer P}` ? P : never;
type ParamNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamNames<Rest> : never;
export type PathParams<K extends string> = { [N in ParamNames<PathOf<K>>]: string };

/** Per-request options every operation takes. */
export interface RequestOptions {
  /** Extra headers (e.g. `If-Match`). Credentials are set by the client's auth, never here. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export type OperationInput<K extends OperationKey> = RequestOptions &
  ([ParamNames<PathOf<K>>] extends [never] ? { params?: undefined } : { params: PathParams<K> }) &
  (Operation<K> extends { body: infer B } ? { body: B } : { body?: undefined }) &
  (Operation<K> extends { query: infer Q } ? { query?: Q } : { query?: undefined });

export type OperationResponse<K extends OperationKey> = Operation<K>['response'];
