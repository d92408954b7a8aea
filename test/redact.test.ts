import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../lambdas/core/api-key.js';
import { redact, REDACTED, scrubString } from '../lambdas/core/redact.js';

const key = generateApiKey('live').key;
const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

describe('redaction', () => {
  it('replaces attributes whose name says they hold a secret, at any depth', () => {
    const out = redact({
      headers: { Authorization: 'whatever', 'X-API-Key': 'x', Cookie: 'a=b', accept: 'json' },
      body: { password: 'hunter2', client_secret: 's', refreshToken: 'r', name: 'ok' },
      list: [{ token: 't' }],
    });
    expect(out).toEqual({
      headers: { Authorization: REDACTED, 'X-API-Key': REDACTED, Cookie: REDACTED, accept: 'json' },
      body: { password: REDACTED, client_secret: REDACTED, refreshToken: REDACTED, name: 'ok' },
      list: [{ token: REDACTED }],
    });
  });

  it('scrubs key-, JWT-, Bearer- and signature-shaped values wherever they sit', () => {
    const text = `bad key ${key} in "${jwt}" via Bearer abc.def-ghi and Basic dXNlcjpw, Signature=${'ab'.repeat(32)}`;
    const out = scrubString(text);
    expect(out).not.toContain(key.slice(10));
    expect(out).not.toContain('eyJzdWIiOiJ4In0');
    expect(out).not.toContain('abc.def-ghi');
    expect(out).not.toContain('dXNlcjpw');
    expect(out).not.toContain('ab'.repeat(32));
    expect(out).toContain('Bearer [REDACTED]');
    expect(redact({ message: `oops ${key}` }).message).toBe(`oops ${REDACTED}`);
  });

  it('leaves ordinary values alone', () => {
    const value = { keyId: 'AbCdEfGhIjKl', tenant: 't', scopes: ['items:read'], count: 3 };
    expect(redact(value)).toEqual(value);
  });
});
