/**
 * API Gateway AWS_IAM authorization on IAM routes (POST /v1/verify), reproduced by the local gateway with
 * @smithy/signature-v4 against the local IAM user of local.json. Requests are signed here the way an AWS SDK signs.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bearer, expectProblem, jsonBody, signedFetch, startTestStack, type TestStack } from './support.js';

let stack: TestStack;
let url: string;
let key: string;
const events: APIGatewayProxyEvent[] = [];
const body = () => JSON.stringify({ key });

beforeAll(async () => {
  stack = await startTestStack({
    intercept: {
      handler: (_group, event, _context, real) => {
        events.push(event);
        return real();
      },
    },
  });
  url = `${stack.apiUrl}/v1/verify`;
  key = stack.config.adminKey;
});

afterAll(async () => {
  await stack?.stop();
});

beforeEach(() => {
  events.length = 0;
});

describe('SigV4 on IAM routes', () => {
  it('a valid signature reaches the function with the IAM caller in requestContext.identity (an IAM principal for verify)', async () => {
    const res = await signedFetch(stack.config, url, { body: body() });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ valid: true, tenant: 'admin' });
    const identity = events[0]!.requestContext.identity;
    expect(identity).toMatchObject({
      userArn: 'arn:aws:iam::000000000000:user/gatehouse-local',
      accountId: '000000000000',
      accessKey: stack.config.iam.accessKeyId,
      caller: expect.stringMatching(/^AIDA/),
      sourceIp: '127.0.0.1',
    });
    expect(events[0]!.requestContext.authorizer).toBeUndefined();
  });

  it('a signature without x-amz-content-sha256 is checked against the hash of the body received', async () => {
    expect((await signedFetch(stack.config, url, { body: body(), applyChecksum: false })).status).toBe(200);
    const tampered = await signedFetch(stack.config, url, {
      body: body(),
      applyChecksum: false,
      after: (r) => {
        r.body = JSON.stringify({ key: 'gth_test_tampered' });
      },
    });
    await expectProblem(tampered, 403, 'PERMISSION_DENIED');
  });

  it('an unsigned call is MISSING_AUTHENTICATION_TOKEN, which the shared definitions answer with a 404 envelope', async () => {
    await expectProblem(await stack.api('/v1/verify', jsonBody({ key })), 404, 'NOT_FOUND');
    expect(events).toHaveLength(0);
  });

  it('an Authorization header that is not SigV4 (a Bearer key) is an invalid signature: 403', async () => {
    await expectProblem(await stack.api('/v1/verify', { ...jsonBody({ key }), headers: { ...bearer(key), 'content-type': 'application/json' } }), 403, 'PERMISSION_DENIED');
  });

  it('a tampered body is refused even with the original x-amz-content-sha256: the body hash is recomputed, never trusted', async () => {
    const res = await signedFetch(stack.config, url, {
      body: body(),
      after: (r) => {
        expect(r.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
        r.body = JSON.stringify({ key: 'gth_test_someone_else' });
      },
    });
    await expectProblem(res, 403, 'PERMISSION_DENIED');
    expect(events).toHaveLength(0);
  });

  it('x-amz-content-sha256: UNSIGNED-PAYLOAD is not honoured (the body is still hashed)', async () => {
    await expectProblem(await signedFetch(stack.config, url, { body: body(), headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }), 403, 'PERMISSION_DENIED');
  });

  it('a wrong secret, an unknown access key, another region or another service is a 403', async () => {
    for (const options of [
      { secretAccessKey: 'x'.repeat(40) },
      { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA' },
      { region: 'eu-west-1' },
      { service: 'lambda' },
    ]) {
      await expectProblem(await signedFetch(stack.config, url, { body: body(), ...options }), 403, 'PERMISSION_DENIED');
    }
    expect(events).toHaveLength(0);
  });

  it('5 minutes of clock skew are accepted either way; more is a 403 (signature expired)', async () => {
    const minutes = (m: number) => new Date(Date.now() + m * 60_000);
    expect((await signedFetch(stack.config, url, { body: body(), signingDate: minutes(-4) })).status).toBe(200);
    expect((await signedFetch(stack.config, url, { body: body(), signingDate: minutes(4) })).status).toBe(200);
    await expectProblem(await signedFetch(stack.config, url, { body: body(), signingDate: minutes(-6) }), 403, 'PERMISSION_DENIED');
    await expectProblem(await signedFetch(stack.config, url, { body: body(), signingDate: minutes(6) }), 403, 'PERMISSION_DENIED');
  });

  it('a signed header changed after signing is refused; an unsigned one added after signing is ignored', async () => {
    const changed = await signedFetch(stack.config, url, {
      body: body(),
      headers: { 'x-client': 'a' },
      after: (r) => {
        r.headers['x-client'] = 'b';
      },
    });
    await expectProblem(changed, 403, 'PERMISSION_DENIED');
    const added = await signedFetch(stack.config, url, {
      body: body(),
      after: (r) => {
        r.headers['x-added-later'] = 'fine';
      },
    });
    expect(added.status).toBe(200);
  });

  it('the query string and the path are part of the signature', async () => {
    expect((await signedFetch(stack.config, `${url}?trace=1`, { body: body() })).status).toBe(200);
    await expectProblem(await signedFetch(stack.config, `${url}?trace=1`, { body: body(), sendTo: `${url}?trace=2` }), 403, 'PERMISSION_DENIED');
    await expectProblem(await signedFetch(stack.config, `${stack.apiUrl}/v1/items`, { body: body(), sendTo: url }), 403, 'PERMISSION_DENIED');
  });

  it('a SigV4 signature is not a Gatehouse credential: token routes answer 401', async () => {
    await expectProblem(await signedFetch(stack.config, `${stack.apiUrl}/v1/whoami`, { method: 'GET' }), 401, 'AUTHENTICATION_FAILED');
  });
});
