/** The `health` handler group: liveness. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createHealthHandler, healthView } from './operations.js';

export const group = defineHandlerGroup({
  name: 'health',
  create: createHealthHandler,
  docs: { 'GET /health': { response: healthView, responses: { 200: 'Ready' } } },
  // nothing: health touches no dependency.
  access: {},
});

export const handler = lambdaEntry(group);
