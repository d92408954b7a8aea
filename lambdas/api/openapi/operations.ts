/**
 * GET /openapi.json: the deployment's OpenAPI document (openapi/document.ts). It is built where every handler group
 * is known — at synth, where CDK bundles it into this function, and at `npm start` — so this function carries no
 * schemas of its own and serves a constant.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConfigError } from '../../core/errors.js';
import { createApiHandler } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { httpOptions, type Services } from '../services.js';

/** The variable CDK bundles the document under (esbuild `define`, like the API definition). */
export const OPENAPI_DOCUMENT_ENV = 'GATEHOUSE_OPENAPI_DOCUMENT';

export function encodeOpenApiDocument(document: Record<string, unknown>): string {
  return deflateRawSync(Buffer.from(JSON.stringify(document), 'utf8')).toString('base64url');
}

/** The bundled document, or undefined outside a bundle that has one. */
export function bundledOpenApiDocument(): Record<string, unknown> | undefined {
  // A literal `process.env.GATEHOUSE_OPENAPI_DOCUMENT` member expression: esbuild's define replaces exactly this text.
  const encoded = process.env.GATEHOUSE_OPENAPI_DOCUMENT;
  if (!encoded) return undefined;
  return JSON.parse(inflateRawSync(Buffer.from(encoded, 'base64url')).toString('utf8')) as Record<string, unknown>;
}

export function createOpenApiHandler(services: Services) {
  const document = services.openApiDocument ?? bundledOpenApiDocument();
  if (!document) throw new ConfigError(OPENAPI_DOCUMENT_ENV, 'the OpenAPI document, bundled at synth (or passed to the local stack)');
  return createApiHandler('openapi', { 'GET /openapi.json': { handle: () => Promise.resolve(json(200, document)) } }, httpOptions(services));
}
