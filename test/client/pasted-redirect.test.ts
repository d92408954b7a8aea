/**
 * What a person may paste back into `gatehouse login --no-browser`, on its own: the address the browser ended on
 * (Cognito's `http://localhost:8976/callback?…`, the local provider's `http://127.0.0.1:<port>/callback?…`), its
 * query string, or just the code. The state of a pasted URL must be this login's; nothing pasted is echoed.
 */
import { describe, expect, it } from 'vitest';

import { OidcError } from '../../client/oidc.js';
import { parsePastedRedirect } from '../../client/pasted-redirect.js';

const STATE = 'Zm9vYmFyYmF6cXV4cXV1eA';

function refusal(input: string): OidcError {
  try {
    parsePastedRedirect(input, STATE);
  } catch (error) {
    if (error instanceof OidcError) return error;
    throw error;
  }
  throw new Error(`accepted: ${input}`);
}

describe('parsePastedRedirect', () => {
  it('takes the code from the whole URL the browser ended on (Cognito and the local provider alike)', () => {
    expect(parsePastedRedirect(`http://localhost:8976/callback?code=0b9c3f7e-1d2a-4c5b-9e8f-7a6b5c4d3e2f&state=${STATE}`, STATE)).toEqual({
      code: '0b9c3f7e-1d2a-4c5b-9e8f-7a6b5c4d3e2f',
      from: 'url',
    });
    expect(parsePastedRedirect(`  "http://127.0.0.1:53121/callback?code=abc-DEF_123&state=${STATE}&iss=http%3A%2F%2F127.0.0.1%3A9000"\r`, STATE)).toEqual({
      code: 'abc-DEF_123',
      from: 'url',
    });
  });

  it('takes a bare query string, or just the code', () => {
    expect(parsePastedRedirect(`?code=c1&state=${STATE}`, STATE)).toEqual({ code: 'c1', from: 'url' });
    expect(parsePastedRedirect(`code=c2&state=${STATE}`, STATE)).toEqual({ code: 'c2', from: 'url' });
    expect(parsePastedRedirect(' c3_-.~x ', STATE)).toEqual({ code: 'c3_-.~x', from: 'code' });
  });

  it('ignores a blank line', () => {
    expect(parsePastedRedirect('', STATE)).toBeUndefined();
    expect(parsePastedRedirect('  \t ', STATE)).toBeUndefined();
  });

  it("refuses a URL whose state is another login's, or that has none", () => {
    expect(refusal('http://localhost:8976/callback?code=c&state=another').error).toBe('state_mismatch');
    expect(refusal('http://localhost:8976/callback?code=c').error).toBe('state_mismatch');
    expect(refusal(`http://localhost:8976/callback?code=c&state=${STATE}&state=another`).error).toBe('state_mismatch');
  });

  it('an error redirect of this login is its OAuth error', () => {
    const denied = refusal(`http://localhost:8976/callback?error=access_denied&error_description=The+user+said+no&state=${STATE}`);
    expect(denied).toMatchObject({ error: 'access_denied', description: 'The user said no' });
  });

  it('refuses, without echoing it, what is neither: the sign-in URL itself, text with spaces, a huge line', () => {
    const authorize = refusal(`https://gatehouse.auth.eu-west-1.amazoncognito.com/oauth2/authorize?response_type=code&client_id=x&state=${STATE}&code_challenge=y`);
    expect(authorize.error).toBe('invalid_paste');
    expect(authorize.message).toContain('carries no code');
    const words = refusal('hunter2 is my password');
    expect(words.error).toBe('invalid_paste');
    expect(words.message).not.toContain('hunter2');
    expect(refusal('x'.repeat(5000)).error).toBe('invalid_paste');
    expect(refusal('javascript:alert(1)').error).toBe('invalid_paste');
  });
});
