/**
 * GET /openapi.json: the deployment's OpenAPI document (openapi/document.ts). It is built where every handler group
 * is known — by the group's bundle hook (index.ts), at synth, where CDK bundles it into this function, and at
 * `npm start`, which hands it to `create` — so this function carries no schemas of its own and serves a constant.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { ConfigError } from '../../core/errors.js';
import type { DeploymentValues } from '../group.js';
import { createApiHandler } from '../http/api-handler.js';
import { json } from '../http/types.js';
import { httpOptions, type Services } from '../services.js';

/** The variable the document is bundled under (esbuild `define`, like the API definition). */
export const OPENAPI_DOCUMENT_ENV = 'GATEHOUSE_OPENAPI_DOCUMENT';

export function encodeOpenApiDocument(document: Record<string, unknown>): string {
  return deflateRawSync(Buffer.from(JSON.stringify(document), 'utf8')).toString('base64url');
}

export function decodeOpenApiDocument(encoded: string): Record<string, unknown> {
  return JSON.parse(inflateRawSync(Buffer.from(encoded, 'base64url')).toString('utf8')) as Record<string, unknown>;
}

/** The encoded document: handed in by the local stack, else bundled (undefined outside a bundle that has one). */
export function encodedOpenApiDocument(values: DeploymentValues = {}): string | undefined {
  // A literal `process.env.GATEHOUSE_OPENAPI_DOCUMENT` member expression: esbuild's define replaces exactly this text.
  return values[OPENAPI_DOCUMENT_ENV] || process.env.GATEHOUSE_OPENAPI_DOCUMENT || undefined;
}

export function createOpenApiHandler(services: Services, values?: DeploymentValues) {
  const encoded = encodedOpenApiDocument(values);
  if (!encoded) throw new ConfigError(OPENAPI_DOCUMENT_ENV, 'the OpenAPI document, bundled at synth (or handed to the local stack)');
  const document = decodeOpenApiDocument(encoded);
  return createApiHandler('openapi', { 'GET /openapi.json': { handle: () => Promise.resolve(json(200, document)) } }, httpOptions(services));
}
