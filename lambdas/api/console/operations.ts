/**
 * The console's routes, all public (the page, its files and its configuration hold nothing secret; everything the
 * person does goes through the token routes with their own token):
 * - `GET /console`: the page (no-store);
 * - `GET /console/{asset}`: `config.json` (no-store), or a file whose name carries its content hash (cached for good).
 * Every response carries the console's security headers (headers.ts).
 */
import { ConfigError, NotFoundError } from '../../core/errors.js';
import type { DeploymentValues } from '../group.js';
import { createApiHandler } from '../http/api-handler.js';
import { json, type ApiResponse } from '../http/types.js';
import { httpOptions, type LambdaHttpHandler, type Services } from '../services.js';
import { consoleFile, CONSOLE_ASSETS_ENV, decodeConsoleAssets, encodedConsoleAssets } from './assets.js';
import { buildConsoleConfig } from './config.js';
import { consoleSecurityHeaders, withHeaders } from './headers.js';
import { readConsoleSignIn } from './sign-in.js';

export const CONSOLE_CONFIG_FILE = 'config.json';
const IMMUTABLE = 'public, max-age=31536000, immutable';

export function createConsoleHandler(services: Services, values?: DeploymentValues): LambdaHttpHandler {
  const encoded = encodedConsoleAssets(values);
  if (!encoded) throw new ConfigError(CONSOLE_ASSETS_ENV, "the console's files, bundled at synth (or handed to the local stack)");
  const assets = decodeConsoleAssets(encoded);
  const signIn = readConsoleSignIn(values);
  const config = buildConsoleConfig(services.api, signIn);
  const headers = consoleSecurityHeaders(signIn);

  const page = (): ApiResponse => ({ status: 200, body: assets.page, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
  const file = (name: string): ApiResponse => {
    if (name === CONSOLE_CONFIG_FILE) return json(200, config);
    const found = consoleFile(assets, name);
    if (!found) throw new NotFoundError('The console has no such file.');
    return { status: 200, body: found.body, headers: { 'Content-Type': found.contentType, 'Cache-Control': IMMUTABLE } };
  };

  const handler = createApiHandler(
    'console',
    {
      'GET /console': { handle: () => Promise.resolve(page()) },
      'GET /console/{asset}': { handle: ({ pathParameters }) => Promise.resolve(file(pathParameters.asset ?? '')) },
    },
    httpOptions(services),
  );
  return async (event, context) => withHeaders(await handler(event, context), headers);
}
