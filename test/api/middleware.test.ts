/** The shared middleware stack: CORS allow-list, envelope for unexpected errors, route/operation agreement. */
import { GATEHOUSE_API } from '../../lambdas/routes.js';
import { describe, expect, it } from 'vitest';
import { createApiHandler } from '../../lambdas/api/http/api-handler.js';
import { json } from '../../lambdas/api/http/types.js';
import { createLogger } from '../../lambdas/core/logger.js';
import { apiEvent, bodyOf, lambdaContext, principal } from '../support/api-events.js';
import { captureOutput } from '../support/services.js';

const logger = createLogger('gatehouse-test');
const whoamiWith = (corsOrigins: string[], handle: () => Promise<ReturnType<typeof json>>) =>
  createApiHandler('whoami', { 'GET /v1/whoami': { handle } }, { logger, corsOrigins, maxBodyBytes: 1024, api: GATEHOUSE_API });

describe('middleware stack', () => {
  it('CORS: echoes an allowed origin with credentials; says nothing to others or when none is configured', async () => {
    const h = whoamiWith(['https://app.example.com'], () => Promise.resolve(json(200, {})));
    const event = (origin: string) => apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('t'), headers: { Origin: origin } });
    const allowed = await h(event('https://app.example.com'), lambdaContext());
    expect(allowed.headers).toMatchObject({ 'Access-Control-Allow-Origin': 'https://app.example.com', 'Access-Control-Allow-Credentials': 'true' });
    const other = await h(event('https://evil.example'), lambdaContext());
    expect(other.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
    const none = await whoamiWith([], () => Promise.resolve(json(200, {})))(event('https://app.example.com'), lambdaContext());
    expect(Object.keys(none.headers ?? {}).filter((h) => h.startsWith('Access-Control'))).toEqual([]);
  });

  it('an unexpected error is logged in full (redacted) and answered as a bare 500 envelope', async () => {
    const secret = 'gth_live_AAAAAAAAAAAA_' + 'b'.repeat(49);
    const h = whoamiWith([], () => Promise.reject(new Error(`database exploded near ${secret}`)));
    const out = captureOutput();
    let res;
    try {
      res = await h(apiEvent({ method: 'GET', path: '/v1/whoami', principal: principal('t') }), lambdaContext());
    } finally {
      out.restore();
    }
    expect(res.statusCode).toBe(500);
    expect(bodyOf(res)).toMatchObject({ code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.' });
    expect(res.body).not.toContain('exploded');
    expect(out.text()).toContain('database exploded');
    expect(out.text()).toContain('"stack"');
    expect(out.text()).not.toContain(secret);
    expect(out.text()).toContain('correlation_id');
  });

  it('refuses to build a handler whose operations disagree with the route table', () => {
    expect(() => createApiHandler('whoami', {}, { logger, corsOrigins: [], maxBodyBytes: 1, api: GATEHOUSE_API })).toThrow(/has no operation/);
    expect(() =>
      createApiHandler('whoami', { 'GET /v1/whoami': { handle: () => Promise.resolve(json(200, {})) }, 'GET /v1/other': { handle: () => Promise.resolve(json(200, {})) } }, {
        logger,
        corsOrigins: [],
        maxBodyBytes: 1,
        api: GATEHOUSE_API,
      }),
    ).toThrow(/not in the route table/);
  });
});
