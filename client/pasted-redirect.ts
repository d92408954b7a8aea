/**
 * The authorization code, from what a person pasted back into a CLI login whose browser ran elsewhere (SSH, a
 * container): the redirect to the loopback address fails to load there, so they copy the address the browser ended
 * on — or just its `code` — as `gcloud auth login --no-browser` has people do.
 *
 * A pasted URL must carry this login's `state` (a redirect of another login, or one a stranger sent, is refused);
 * a bare code has no state to check, and needs none: PKCE binds it to this login's verifier, so a code issued for
 * anyone else's challenge is refused by the token endpoint. Nothing pasted is ever echoed in an error (someone may
 * paste a password into the wrong prompt).
 */
import { OidcError } from './oidc.js';

export interface PastedCode {
  code: string;
  /** `url` when it came from a pasted URL or query string (its state was checked), `code` for a bare code. */
  from: 'url' | 'code';
}

/** Long enough for any code an issuer sends (Cognito's are UUIDs), short enough to refuse a pasted document. */
const MAX_PASTE = 4096;
/** Codes are opaque strings; those of Cognito, oidc-provider and the usual issuers are URL-safe base64 or UUIDs. */
const BARE_CODE = /^[A-Za-z0-9._~+/=-]{1,2048}$/;

const notACode = (why: string) => new OidcError('invalid_paste', why);

/** The query parameters of a pasted URL or query string; undefined when the text is neither. */
function pastedParams(text: string): URLSearchParams | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    const url = URL.parse(text);
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw notACode('that is not an http(s) URL: paste the address the browser ended on, or its code');
    return url.searchParams;
  }
  if (text.startsWith('?')) return new URLSearchParams(text.slice(1));
  if (/(^|&)(code|state|error)=/.test(text)) return new URLSearchParams(text);
  return undefined;
}

/**
 * The code in `input` (one pasted line), checked against this login's `state`; undefined for a blank line (keep
 * waiting). Throws an {@link OidcError}: `state_mismatch`, the redirect's own OAuth error (`access_denied`…), or
 * `invalid_paste` for anything else.
 */
export function parsePastedRedirect(input: string, state: string): PastedCode | undefined {
  // Terminals and chat tools wrap what is copied in quotes or angle brackets, and add a CR.
  const text = input.trim().replace(/^(["'<])(.*)(["'>])$/s, '$2').trim();
  if (text === '') return undefined;
  if (text.length > MAX_PASTE) throw notACode('the pasted line is too long to be a redirect URL or a code');

  const params = pastedParams(text);
  if (!params) {
    if (!BARE_CODE.test(text)) throw notACode('that is neither the URL the browser ended on nor a code');
    return { code: text, from: 'code' };
  }
  const states = params.getAll('state');
  if (states.length === 0) throw new OidcError('state_mismatch', 'the pasted URL carries no state: paste the whole address the browser ended on');
  if (states.length > 1 || states[0] !== state) {
    throw new OidcError('state_mismatch', 'the pasted URL belongs to another sign-in (its state is not the one this login sent)');
  }
  const error = params.get('error');
  if (error !== null) throw new OidcError(error, params.get('error_description') ?? undefined);
  const code = params.get('code');
  if (!code) throw notACode('the pasted URL carries no code: paste the address the browser ended on after you signed in, not the sign-in URL');
  if (code.length > 2048) throw notACode('the code in the pasted URL is too long');
  return { code, from: 'url' };
}
