/** The `whoami` handler group: the calling principal. */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { createWhoamiHandler } from './operations.js';
import { whoamiView } from './schemas.js';

export const group = defineHandlerGroup({
  name: 'whoami',
  create: createWhoamiHandler,
  docs: { 'GET /v1/whoami': { response: whoamiView, responses: { 200: 'The calling principal' } } },
  // nothing: the answer is the authorizer's context.
  access: {},
});

export const handler = lambdaEntry(group);
