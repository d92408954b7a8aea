/** The `openapi` handler group: this API as OpenAPI 3.1. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { buildOpenApiDocument } from './document.js';
import { createOpenApiHandler, encodeOpenApiDocument, OPENAPI_DOCUMENT_ENV } from './operations.js';

export const group = defineHandlerGroup({
  name: 'openapi',
  create: createOpenApiHandler,
  docs: { 'GET /openapi.json': { responses: { 200: 'This document' } } },
  // The document describes every group of the deployment, so it is built where they are all known and bundled.
  bundle: ({ api, groups, title }) => ({
    [OPENAPI_DOCUMENT_ENV]: encodeOpenApiDocument(
      buildOpenApiDocument(api, { docs: Object.fromEntries([...groups].map(([name, g]) => [name, g.docs])), title }),
    ),
  }),
  // nothing: the document is part of the bundle.
  access: {},
});

export const handler = lambdaEntry(group);
