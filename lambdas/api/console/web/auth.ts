/**
 * Signing a person in from the browser: OAuth 2.0 authorization code with PKCE (S256) against the deployment's
 * hosted login (Cognito managed login in AWS, the local OIDC provider under `npm start`), with a `state` checked on
 * the way back and the code removed from the address bar before it is exchanged.
 *
 * Where the tokens live — the trade-off: in this module's memory only. Nothing another script, an extension reading
 * storage, or a later visitor of this browser profile could pick up survives the tab; a reload or a second tab signs
 * in again, which the hosted login's own session cookie makes a redirect there and back without typing anything.
 * sessionStorage (per tab) holds only the PKCE verifier, state and nonce of a sign-in under way (single use, useless
 * without the code) and a marker that this tab had a session — never a token.
 */
import type { ConsoleSignIn } from '../sign-in.js';

const PENDING = 'gatehouse.console.pending';
const HAD_SESSION = 'gatehouse.console.session';
const SIGNED_OUT = 'gatehouse.console.signedOut';
const AUTO_SIGN_INS = 'gatehouse.console.autoSignIns';
/** Automatic sign-ins in a row without one successful API call: past this the console stops and says why. */
const MAX_AUTO_SIGN_INS = 2;

export interface Claims {
  readonly username?: string;
  readonly email?: string;
  readonly groups: readonly string[];
}

interface Session {
  accessToken: string;
  refreshToken?: string;
  /** ms since the epoch. */
  expiresAt: number;
  /** Used without a refresh until then (ms since the epoch): 10 s before expiry, or a quarter of a short lifetime. */
  freshUntil: number;
  claims: Claims;
}

interface Pending {
  readonly state: string;
  readonly verifier: string;
  readonly nonce: string;
  readonly returnTo: string;
}

interface TokenResponse {
  readonly access_token?: unknown;
  readonly id_token?: unknown;
  readonly refresh_token?: unknown;
  readonly expires_in?: unknown;
  readonly error?: unknown;
  readonly error_description?: unknown;
}

export class SignInError extends Error {
  override readonly name = 'SignInError';
}

const ROUTE = /^#[a-z-]{0,32}$/;

function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

async function challengeOf(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
}

/** The ID token's claims. It came straight from the token endpoint over TLS, so its signature need not be checked (OIDC Core §3.1.3.7); it is shown, never trusted for a decision: the API decides. */
function claimsOf(idToken: unknown, clientId: string, nonce: string | undefined): Claims {
  if (typeof idToken !== 'string') return { groups: [] };
  const part = idToken.split('.')[1] ?? '';
  let payload: Record<string, unknown>;
  try {
    const binary = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    payload = JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
  } catch {
    throw new SignInError('The sign-in returned an ID token the console cannot read.');
  }
  const audience = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audience.includes(clientId)) throw new SignInError('The sign-in returned an ID token for another client.');
  if (nonce !== undefined && payload.nonce !== nonce) throw new SignInError('The sign-in returned an ID token for another sign-in (nonce).');
  const groups = payload['cognito:groups'];
  const username = payload['cognito:username'] ?? payload.username;
  return {
    ...(typeof username === 'string' ? { username } : {}),
    ...(typeof payload.email === 'string' ? { email: payload.email } : {}),
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
  };
}

export class Auth {
  private session: Session | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private refreshing: Promise<boolean> | undefined;
  /** Set once the page is on its way to the hosted login: several calls refused at once start one sign-in, not several. */
  private leaving = false;

  /** `redirectUri`: the console page's own URL, registered with the client as its callback and sign-out URL. */
  constructor(
    private readonly signIn: ConsoleSignIn,
    private readonly redirectUri: string,
  ) {
    // Back from the hosted login to a page the browser kept: it may start a sign-in again.
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) this.leaving = false;
    });
  }

  get claims(): Claims | undefined {
    return this.session?.claims;
  }

  get signedIn(): boolean {
    return this.session !== undefined;
  }

  /** This tab had a session (a reload lost it from memory): sign in again without asking. */
  static hadSession(): boolean {
    return sessionStorage.getItem(HAD_SESSION) === '1';
  }

  /** The person signed out in this tab (shown once on the sign-in page). */
  static takeSignedOut(): boolean {
    const was = sessionStorage.getItem(SIGNED_OUT) === '1';
    sessionStorage.removeItem(SIGNED_OUT);
    return was;
  }

  /** Whether another automatic sign-in may be tried (a session the API keeps refusing must not loop). */
  static mayAutoSignIn(): boolean {
    return Number(sessionStorage.getItem(AUTO_SIGN_INS) ?? '0') < MAX_AUTO_SIGN_INS;
  }

  /** An API call succeeded: the session works, automatic sign-ins may be tried again when it is lost. */
  static sessionWorks(): void {
    sessionStorage.removeItem(AUTO_SIGN_INS);
  }

  /** Goes to the hosted login; `returnTo` (a `#page`) is where the person comes back to. */
  async begin(returnTo: string, automatic = false): Promise<void> {
    if (this.leaving) return;
    this.leaving = true;
    if (automatic) sessionStorage.setItem(AUTO_SIGN_INS, String(Number(sessionStorage.getItem(AUTO_SIGN_INS) ?? '0') + 1));
    const pending: Pending = { state: randomString(), verifier: randomString(), nonce: randomString(), returnTo: ROUTE.test(returnTo) ? returnTo : '' };
    sessionStorage.setItem(PENDING, JSON.stringify(pending));
    const url = new URL(this.signIn.authorizationEndpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.signIn.clientId,
      redirect_uri: this.redirectUri,
      scope: this.signIn.scopes.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await challengeOf(pending.verifier),
      code_challenge_method: 'S256',
    }).toString();
    location.assign(url.href);
  }

  /** Whether this page load is the hosted login's redirect back (a code or an error in the query). */
  static isCallback(): boolean {
    const params = new URLSearchParams(location.search);
    return params.has('code') || params.has('error');
  }

  /**
   * Finishes a sign-in: takes the code out of the address bar at once (history.replaceState), checks `state`
   * against the sign-in this tab started, and exchanges the code with the PKCE verifier. Returns the `#page` to show.
   */
  async complete(): Promise<string> {
    const params = new URLSearchParams(location.search);
    const raw = sessionStorage.getItem(PENDING);
    sessionStorage.removeItem(PENDING);
    const pending = raw ? (JSON.parse(raw) as Pending) : undefined;
    history.replaceState(null, '', this.redirectUri + (pending?.returnTo ?? ''));
    const error = params.get('error');
    if (error) throw new SignInError(`The sign-in did not complete: ${params.get('error_description') ?? error}.`);
    if (!pending || params.get('state') !== pending.state) {
      throw new SignInError('This sign-in response does not belong to a sign-in started here (its state does not match): sign in again.');
    }
    const tokens = await this.tokenRequest({
      grant_type: 'authorization_code',
      client_id: this.signIn.clientId,
      code: params.get('code') ?? '',
      redirect_uri: this.redirectUri,
      code_verifier: pending.verifier,
    });
    this.accept(tokens, undefined, pending.nonce);
    sessionStorage.setItem(HAD_SESSION, '1');
    sessionStorage.removeItem(SIGNED_OUT);
    return pending.returnTo;
  }

  /** A current access token: refreshed first when it is about to expire; undefined when the session is gone. */
  async accessToken(): Promise<string | undefined> {
    const session = this.session;
    if (!session) return undefined;
    if (Date.now() < session.freshUntil) return session.accessToken;
    return (await this.refresh()) ? this.session?.accessToken : undefined;
  }

  /** Forgets the session (the API refused it): the next sign-in starts from the hosted login. */
  drop(): void {
    this.session = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** Forgets the tokens and ends the hosted login's session too, coming back to the console signed out. */
  signOut(): void {
    this.drop();
    sessionStorage.removeItem(HAD_SESSION);
    sessionStorage.removeItem(AUTO_SIGN_INS);
    sessionStorage.setItem(SIGNED_OUT, '1');
    const url = new URL(this.signIn.logoutEndpoint);
    url.search = new URLSearchParams(
      this.signIn.kind === 'cognito'
        ? { client_id: this.signIn.clientId, logout_uri: this.redirectUri }
        : { client_id: this.signIn.clientId, post_logout_redirect_uri: this.redirectUri },
    ).toString();
    location.assign(url.href);
  }

  private async tokenRequest(form: Record<string, string>): Promise<TokenResponse> {
    let response: Response;
    try {
      response = await fetch(this.signIn.tokenEndpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form),
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch {
      throw new SignInError('The sign-in service could not be reached.');
    }
    const body = (await response.json().catch(() => ({}))) as TokenResponse;
    if (!response.ok || typeof body.access_token !== 'string') {
      const reason = typeof body.error_description === 'string' ? body.error_description : typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
      throw new SignInError(`The sign-in service refused the request: ${reason}.`);
    }
    return body;
  }

  private accept(tokens: TokenResponse, previous: Session | undefined, nonce?: string): void {
    const expiresIn = typeof tokens.expires_in === 'number' && tokens.expires_in > 0 ? tokens.expires_in : 300;
    const refreshToken = typeof tokens.refresh_token === 'string' ? tokens.refresh_token : previous?.refreshToken;
    const now = Date.now();
    this.session = {
      accessToken: tokens.access_token as string,
      ...(refreshToken ? { refreshToken } : {}),
      expiresAt: now + expiresIn * 1000,
      freshUntil: now + expiresIn * 1000 - Math.min(10_000, expiresIn * 250),
      claims: tokens.id_token === undefined && previous ? previous.claims : claimsOf(tokens.id_token, this.signIn.clientId, nonce),
    };
    this.schedule(expiresIn);
  }

  /** Refreshes a minute before expiry (half-way through a shorter lifetime), so a call never waits for it. */
  private schedule(expiresIn: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (!this.session?.refreshToken) return;
    const delaySeconds = expiresIn > 120 ? expiresIn - 60 : expiresIn / 2;
    this.timer = setTimeout(() => void this.refresh(), delaySeconds * 1000);
  }

  /** One refresh at a time; false when there is no refresh token or the sign-in service refused it. */
  private refresh(): Promise<boolean> {
    const session = this.session;
    if (!session?.refreshToken) return Promise.resolve(false);
    this.refreshing ??= this.tokenRequest({ grant_type: 'refresh_token', client_id: this.signIn.clientId, refresh_token: session.refreshToken })
      .then((tokens) => {
        if (this.session === session) this.accept(tokens, session);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }
}
