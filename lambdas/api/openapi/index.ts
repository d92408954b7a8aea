/** The `openapi` handler group: this API as OpenAPI 3.1. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createOpenApiHandler } from './operations.js';

export const group = defineHandlerGroup({
  name: 'openapi',
  create: createOpenApiHandler,
  docs: { 'GET /openapi.json': { responses: { 200: 'This document' } } },
  // nothing: the document is part of the bundle.
  access: {},
});

export const handler = lambdaEntry(group);
