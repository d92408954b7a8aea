import { createHash, randomBytes } from 'node:crypto';

/**
 * A minimal cookie-carrying HTTP "browser" for driving login forms with plain fetch: redirects are followed by hand
 * so a test can stop at the OAuth redirect URI and read the code from its Location.
 */
export class TestBrowser {
  private readonly cookies = new Map<string, string>();
  /** Every URL requested, in order. */
  readonly visited: string[] = [];

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    this.visited.push(url);
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const expired = attributes.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now());
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** Follows redirects until a page, or until one points at `redirectUri` (returned, not fetched). */
  async follow(url: string, init: RequestInit, redirectUri: string): Promise<{ page?: Response; url: string; callback?: URL }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 10) throw new Error('redirect loop');
      const next = new URL(res.headers.get('location')!, current);
      if (`${next.origin}${next.pathname}` === redirectUri) return { url: current, callback: next };
      current = next.href;
      res = await this.request(current);
    }
    return { page: res, url: current };
  }

  /** Follows every redirect (the last one included) to a page. */
  async followAll(url: string, init: RequestInit = {}): Promise<{ res: Response; url: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; res.status >= 300 && res.status < 400; hops++) {
      if (hops > 10) throw new Error('redirect loop');
      current = new URL(res.headers.get('location')!, current).href;
      res = await this.request(current);
    }
    return { res, url: current };
  }

  /** Opens a sign-in URL, submits the plain HTML login form, follows redirects to the end; answers the final page. */
  async signIn(authorizeUrl: string, username: string, password: string): Promise<{ status: number; url: string; html: string }> {
    const { res: formPage, url: formUrl } = await this.followAll(authorizeUrl);
    const html = await formPage.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no login form at ${formUrl}: ${formPage.status} ${html.slice(0, 300)}`);
    const { res, url } = await this.followAll(new URL(action.replaceAll('&amp;', '&'), formUrl).href, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }),
    });
    return { status: res.status, url, html: await res.text() };
  }
}

/** An authorization-code + PKCE (S256) request: the authorize URL, and the verifier and state to finish it with. */
export function pkceAuthorization(args: {
  authorizationEndpoint: string;
  clientId: string;
  redirectUri: string;
  scope: string;
}): { url: string; verifier: string; state: string } {
  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(8).toString('hex');
  const url = new URL(args.authorizationEndpoint);
  url.search = new URLSearchParams({
    client_id: args.clientId,
    response_type: 'code',
    redirect_uri: args.redirectUri,
    scope: args.scope,
    state,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  return { url: url.href, verifier, state };
}
