// Login and consent, served beside oidc-provider: a real password check against the configured users
// (devInteractions would accept any password) and consent granted automatically, like a first-party app.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Interaction, default as Provider } from 'oidc-provider';

import { errorPage, loginPage, PAGE_HEADERS } from './html.js';
import type { ResolvedUser } from './settings.js';

const ROUTE = /^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/;
const MAX_FORM_BYTES = 16 * 1024;

function send(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...PAGE_HEADERS });
  res.end(html);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw Object.assign(new Error('form too large'), { status: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Compares digests so neither timing nor length reveals how much of the password matched. */
function samePassword(actual: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(actual), digest(expected));
}

/** Grants exactly what the consent prompt says is missing (it only lists scopes the client may have). */
async function grantConsent(provider: Provider, details: Interaction): Promise<string> {
  const accountId = details.session?.accountId;
  const clientId = details.params.client_id;
  if (!accountId || typeof clientId !== 'string') throw new Error('consent prompt without a login');
  const grant =
    (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
    new provider.Grant({ accountId, clientId });
  const { missingOIDCScope, missingResourceScopes } = details.prompt.details;
  if (missingOIDCScope?.length) grant.addOIDCScope(missingOIDCScope.join(' '));
  for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant.save();
}

/**
 * Returns a request handler for `/interaction/:uid` (GET shows the form or auto-consents) and
 * `/interaction/:uid/login` (POST checks the password); it answers false for any other path.
 */
export function createInteractionHandler(
  provider: Provider,
  users: ResolvedUser[],
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const byName = new Map(users.map((user) => [user.username, user]));

  async function handle(req: IncomingMessage, res: ServerResponse, uid: string, isLogin: boolean): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw Object.assign(new Error('interaction mismatch'), { status: 400 });
    const action = `/interaction/${uid}/login`;

    if (details.prompt.name === 'consent') {
      const grantId = await grantConsent(provider, details);
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    if (details.prompt.name !== 'login') throw new Error(`unsupported prompt ${details.prompt.name}`);

    // What the person signs in to, in words (the client's registered name), never its id.
    const clientName = (await provider.Client.find(String(details.params.client_id)))?.clientName;
    const form = { action, ...(clientName ? { clientName } : {}) };
    if (!isLogin || req.method !== 'POST') {
      send(res, 200, loginPage(form));
      return;
    }
    const submitted = await readForm(req);
    const username = submitted.get('username') ?? '';
    const user = byName.get(username);
    // Check a password even for unknown users, so the answer takes as long either way.
    const ok = samePassword(submitted.get('password') ?? '', user?.password ?? '\0') && user !== undefined;
    if (!ok) {
      send(res, 401, loginPage({ ...form, username, error: 'Incorrect username or password.' }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }

  return async (req, res) => {
    const match = ROUTE.exec(new URL(req.url ?? '/', 'http://local').pathname);
    if (!match?.[1]) return false;
    try {
      await handle(req, res, match[1], match[2] !== undefined);
    } catch (error) {
      // Unknown or expired interactions (no cookie, stale uid) come back as oidc-provider errors with a status.
      const status = (error as { status?: number }).status ?? 500;
      const description = (error as { error_description?: string }).error_description ?? (error as Error).message;
      if (!res.headersSent) send(res, status, errorPage({ error: status >= 500 ? 'server_error' : 'invalid_request', description }));
      else res.end();
    }
    return true;
  };
}
