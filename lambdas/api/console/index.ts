/**
 * The `console` handler group: the browser console (a person signs in with the hosted login and manages the
 * tenant's API keys, sees usage and the audit trail), served by the API itself from its own origin. The browser
 * code is `web/`; it is built into the bundle by the group's bundle hook (build.ts).
 */
import { defineHandlerGroup } from '../group.js';
import { lambdaEntry } from '../services.js';
import { CONSOLE_ASSETS_ENV } from './assets.js';
import { encodedConsoleBuild } from './build.js';
import { createConsoleHandler } from './operations.js';

const html = 'The console page (text/html; it loads its script and stylesheet from /console/)';

export const group = defineHandlerGroup({
  name: 'console',
  create: createConsoleHandler,
  docs: {
    'GET /console': { responses: { 200: html } },
    'GET /console/{asset}': { responses: { 200: "config.json (the deployment's sign-in and routes), or one of the console's files" } },
  },
  bundle: () => ({ [CONSOLE_ASSETS_ENV]: encodedConsoleBuild() }),
  // Nothing: its files are part of the bundle, and everything the page does goes through the API's own routes.
  access: {},
});

export const handler = lambdaEntry(group);
