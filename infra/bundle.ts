/**
 * What the Gatehouse functions carry in their code rather than their environment (esbuild `define`): the
 * deployment's API declaration (every Gatehouse function) and its OpenAPI document (the openapi function). Part of
 * the code version, so a deploy that changes routes changes the functions, and no warm container keeps an old table.
 * The runtime reads exactly `process.env.GATEHOUSE_API_DEFINITION` / `process.env.GATEHOUSE_OPENAPI_DOCUMENT`
 * (lambdas/deployment.ts, lambdas/api/openapi/operations.ts): esbuild replaces that member expression.
 */
import { API_DEFINITION_ENV, encodeApiDefinition, type Api } from '../lambdas/core/api-definition.js';
import { encodeOpenApiDocument, OPENAPI_DOCUMENT_ENV } from '../lambdas/api/openapi/operations.js';

/** Linux refuses a single command-line argument over 128 KiB; esbuild gets each define as one. */
const MAX_DEFINE_BYTES = 120 * 1024;

function define(name: string, encoded: string): Record<string, string> {
  // The encodings are base64url: a JSON string literal of them needs no escaping.
  const value = JSON.stringify(encoded);
  if (value.length > MAX_DEFINE_BYTES) throw new Error(`${name} is ${value.length} bytes encoded; at most ${MAX_DEFINE_BYTES} can be bundled`);
  return { [`process.env.${name}`]: value };
}

/** The define that bundles `api`'s declaration into a Gatehouse function. */
export function apiDefinitionDefine(api: Api): Record<string, string> {
  return define(API_DEFINITION_ENV, encodeApiDefinition(api.definition));
}

/** The define that bundles the OpenAPI document into the openapi function. */
export function openApiDocumentDefine(document: Record<string, unknown>): Record<string, string> {
  return define(OPENAPI_DOCUMENT_ENV, encodeOpenApiDocument(document));
}
