/**
 * Issue 14, the browser console end to end: Debian's chromium, headless, driven by playwright-core, against the stack
 * `npm start` runs (its local OIDC provider's login page, its gateway, its handlers). Alice signs in, creates keys,
 * copies one, uses it, rotates and revokes; bob is shown why he cannot read the audit trail; sign-out ends the hosted
 * session. A screenshot of each page is written to test/artifacts/console/. Skips itself, saying why, without chromium.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../../infra/function.js';
import { bearer, jsonBody, requestFrom, startTestStack, type TestStack } from '../local/support.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SKIP_REASON = `${CHROMIUM} is not installed (apt-get install -y chromium)`;
const ARTIFACTS = join(REPO_ROOT, 'test', 'artifacts', 'console');
/** Short-lived tokens, so the console's refresh runs while the test does (it refreshes half-way through). */
const TOKEN_TTL_SECONDS = 10;
/** The WAF's per-credential budget (per 60 s): low enough for the test to spend one token's. */
const RATE_LIMIT_PER_CREDENTIAL = 60;

/** Markup in a key's name and in an item's name (it reaches the audit trail in a refused request's path). */
const KEY_NAME_PROBE = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
const ITEM_NAME_PROBE = `<xss-probe>item"'&amp;`;

if (!haveChromium) console.warn(`browser console test skipped: ${SKIP_REASON}`);

describe.skipIf(!haveChromium)(`the browser console in headless Chromium (skipped without ${CHROMIUM})`, () => {
  let stack: TestStack;
  let browser: Browser;
  let alice: BrowserContext;
  let page: Page;
  /** Set to refuse the authorizer's next decision on `POST …/v1/keys` (a session that ended under the person). */
  let refuseNextKeyCreation = false;
  const dialogs: string[] = [];
  const cspViolations: string[] = [];
  const tokenRequests: { grant: string; status: number }[] = [];
  let aliceKey = '';
  let aliceKeyId = '';

  const password = (username: string) => stack.config.oidc.users.find((u) => u.username === username)!.password;
  const shot = (name: string, target: Page = page) => target.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  function watch(target: Page): void {
    target.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    target.on('console', (message) => {
      if (/Content Security Policy|Trusted Type/i.test(message.text())) cspViolations.push(message.text());
    });
    target.on('requestfinished', (request) => {
      if (request.url() !== stack.config.oidc.tokenEndpoint || request.method() !== 'POST') return;
      void request.response().then((response) => {
        tokenRequests.push({ grant: new URLSearchParams(request.postData() ?? '').get('grant_type') ?? '', status: response?.status() ?? 0 });
      });
    });
  }

  /** The local login page: the person's name and password, as they would type them. */
  async function logIn(target: Page, username: string): Promise<void> {
    await target.getByLabel('Username').fill(username);
    await target.getByLabel('Password').fill(password(username));
    await target.getByRole('button', { name: 'Sign in' }).click();
  }

  async function signIn(target: Page, username: string): Promise<void> {
    await target.goto(stack.consoleUrl!);
    await target.getByRole('button', { name: 'Sign in' }).click();
    await logIn(target, username);
    await target.getByRole('heading', { name: 'Who am I' }).waitFor();
  }

  async function goTo(name: 'Who am I' | 'Keys' | 'Usage' | 'Audit trail', heading: string): Promise<void> {
    await page.getByRole('link', { name }).click();
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  }

  const keyRow = (name: string) => page.locator('#keys-table tbody tr').filter({ has: page.locator('.key-name', { hasText: name }) });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startTestStack({
      env: { GATEHOUSE_RATE_LIMIT_PER_CREDENTIAL: String(RATE_LIMIT_PER_CREDENTIAL) },
      accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
      intercept: {
        authorizer: (event, real) => {
          if (refuseNextKeyCreation && event.httpMethod === 'POST' && event.path.endsWith('/v1/keys')) {
            refuseNextKeyCreation = false;
            return Promise.reject(new Error('Unauthorized'));
          }
          return real();
        },
      },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
    alice = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Fail a step in seconds, not at the test's timeout.
    alice.setDefaultTimeout(8_000);
    await alice.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(stack.apiUrl).origin });
    await alice.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(stack.config.oidc.issuer).origin });
    page = await alice.newPage();
    watch(page);
  }, 60_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') await shot(`failed-${context.task.name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('serves the page with a strict Content-Security-Policy, no inline script or style, and everything from its own origin', async () => {
    const res = await fetch(stack.consoleUrl!);
    expect(res.status).toBe(200);
    const oidcOrigin = new URL(stack.config.oidc.tokenEndpoint).origin;
    expect(res.headers.get('content-security-policy')).toBe(
      `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self' ${oidcOrigin}; base-uri 'none'; form-action 'none'; ` +
        "frame-ancestors 'none'; require-trusted-types-for 'script'; trusted-types 'none'",
    );
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map(([, attributes, body]) => ({ external: /\ssrc="console\/[^"/]+"/.test(attributes!), body }))).toEqual([{ external: true, body: '' }]);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=|https?:\/\//i);
  });

  it('alice signs in through the login page (PKCE, state checked): no code or token stays in the address, and she sees who she is', async () => {
    await page.goto(`${stack.consoleUrl!}#keys`);
    // The hosted login: the authorize request carries an S256 challenge and a state.
    const [request] = await Promise.all([
      page.waitForRequest((r) => r.url().startsWith(stack.config.oidc.authorizationEndpoint)),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    const authorize = new URL(request.url());
    expect(`${authorize.origin}${authorize.pathname}`).toBe(stack.config.oidc.authorizationEndpoint);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await logIn(page, 'alice');
    // Back where she started (#keys), with the code and state gone from the address.
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    expect(page.url()).toBe(`${stack.consoleUrl!}#keys`);
    expect(tokenRequests.filter((r) => r.grant === 'authorization_code')).toEqual([{ grant: 'authorization_code', status: 200 }]);

    await goTo('Who am I', 'Who am I');
    // Her tenant is her sub (a UUID, as Cognito's): the local provider sets no custom:tenant.
    expect(await page.locator('#who-tenant').textContent()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await expect.poll(() => page.locator('#who-admin').textContent()).toMatch(/^Yes/);
    await expect.poll(() => page.getByRole('cell', { name: 'audit:read', exact: true }).count()).toBe(1);
    await shot('whoami');
  });

  it('alice creates a key with the keyboard, shown once with a warning and a copy button; it answers 200 on a route it allows', async () => {
    await goTo('Keys', 'API keys');
    // Only the scopes she holds are offered.
    const offered = await page.locator('#create-key input[name="scope"]').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    expect(offered.sort()).toEqual(['audit:read', 'items:read', 'items:write', 'keys:read', 'keys:write', 'usage:read']);
    await page.locator('#key-name').focus();
    await page.keyboard.type('ci deploy');
    await page.getByRole('checkbox', { name: /items:read/ }).focus();
    await page.keyboard.press('Space');
    await page.locator('#key-name').focus();
    await page.keyboard.press('Enter');

    const secret = page.locator('#new-key-value');
    await secret.waitFor();
    aliceKey = await secret.inputValue();
    expect(aliceKey).toMatch(/^gth_test_/);
    await expect.poll(() => page.locator('#new-key').textContent()).toContain('it is shown only this once');
    await page.getByRole('button', { name: 'Copy key' }).click();
    await expect.poll(() => page.locator('#copy-status').textContent()).toBe('Copied to the clipboard.');
    // What the copy put on the clipboard, read from a page of another origin (the console's own policy denies reading it).
    const reader = await alice.newPage();
    await reader.goto(`${stack.config.oidc.issuer}/.well-known/openid-configuration`);
    expect(await reader.evaluate(() => navigator.clipboard.readText())).toBe(aliceKey);
    await reader.close();
    await keyRow('ci deploy').waitFor();
    aliceKeyId = (await keyRow('ci deploy').getAttribute('data-key-id'))!;
    await shot('keys');

    const use = await stack.api('/v1/items', { headers: { 'x-api-key': aliceKey } });
    expect(use.status).toBe(200);
    expect((await stack.api('/v1/items', { ...jsonBody({ name: 'x' }), headers: { 'x-api-key': aliceKey, 'content-type': 'application/json' } })).status).toBe(403);
    // The plaintext leaves the page with the panel.
    await page.getByRole('button', { name: 'Done: I have stored it' }).click();
    expect(await page.locator('#new-key-value').count()).toBe(0);
    expect(await page.content()).not.toContain(aliceKey);
  });

  it('shows usage per key with a chart', async () => {
    for (let i = 0; i < 3; i += 1) expect((await stack.api('/v1/items', { headers: { 'x-api-key': aliceKey } })).status).toBe(200);
    await stack.drainBookkeeping();
    await goTo('Usage', 'Usage');
    const row = page.locator('#usage-table tbody tr').filter({ hasText: 'ci deploy' });
    await row.waitFor();
    expect(Number((await row.locator('td.num').textContent())!.replace(/\D/g, ''))).toBeGreaterThanOrEqual(4);
    expect(await page.locator('figure.chart svg[role="img"] rect.bar').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('figure.chart svg text.label').allTextContents()).toContain('ci deploy');
    await shot('usage');
  });

  it('rotates a key with a grace period: the successor is shown once and both work until the grace ends', async () => {
    await goTo('Keys', 'API keys');
    await keyRow('ci deploy').getByRole('button', { name: 'Rotate key ci deploy' }).click();
    await page.getByLabel(/Grace period in seconds/).fill('600');
    await page.getByRole('button', { name: 'Rotate key', exact: true }).click();
    await page.getByRole('heading', { name: 'Successor of “ci deploy”' }).waitFor();
    const successor = await page.locator('#new-key-value').inputValue();
    expect(successor).not.toBe(aliceKey);
    expect((await stack.api('/v1/items', { headers: { 'x-api-key': successor } })).status).toBe(200);
    expect((await stack.api('/v1/items', { headers: { 'x-api-key': aliceKey } })).status).toBe(200);
    // Two keys named "ci deploy" now: the successor, active, and the old one, marked rotated until its grace ends.
    await expect.poll(() => keyRow('ci deploy').count()).toBe(2);
    expect(await page.locator(`#keys-table tr[data-key-id="${aliceKeyId}"] .badge.grace`).textContent()).toBe('rotated');
    // Each key's plan (docs/plans.md): without plans configured, every key is on the built-in unlimited plan.
    expect(await page.locator(`#keys-table tr[data-key-id="${aliceKeyId}"] td[data-label="Plan"]`).textContent()).toBe('unlimited');
  });

  it('alice revokes a key after confirming, and it is refused within the revocation window', async () => {
    await page.getByRole('button', { name: 'Done: I have stored it' }).click();
    await page.locator(`#keys-table tr[data-key-id="${aliceKeyId}"]`).getByRole('button', { name: /^Revoke key/ }).click();
    // Nothing happens before the confirmation.
    expect((await stack.api('/v1/items', { headers: { 'x-api-key': aliceKey } })).status).toBe(200);
    await page.getByRole('button', { name: 'Revoke key', exact: true }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Revoked “ci deploy”.' }).count()).toBe(1);
    await expect.poll(() => page.locator(`#keys-table tr[data-key-id="${aliceKeyId}"] .badge`).textContent()).toBe('revoked');
    // The authorizer caches an allow for at most 5 s (GATEHOUSE_CACHE_TTL_SECONDS): refused within that window.
    await expect.poll(async () => (await stack.api('/v1/items', { headers: { 'x-api-key': aliceKey } })).status, { timeout: 10_000, interval: 250 }).toBe(401);
  });

  it('markup in a key name and in an item name renders as text: no dialog, no injected element, no script run', async () => {
    await page.locator('#key-name').fill(KEY_NAME_PROBE);
    await page.getByRole('checkbox', { name: /items:read/ }).check();
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.locator('#new-key-value').waitFor();
    await expect.poll(() => page.locator('#keys-table .key-name').allTextContents()).toContain(KEY_NAME_PROBE);
    // The item name reaches the audit trail in the path of a request refused for the revoked key (from another
    // address: identical refusals from one address within a minute are one event, with the first one's path).
    const refused = await requestFrom('127.0.0.7', `${stack.apiUrl}/v1/items/${ITEM_NAME_PROBE}`, { headers: { 'x-api-key': aliceKey } });
    expect(refused.status).toBe(401);
    await stack.drainBookkeeping();
    await goTo('Audit trail', 'Audit trail');
    await page.getByLabel(/^Type/).selectOption('credential.refused');
    await page.getByRole('button', { name: 'Show events' }).click();
    await expect.poll(() => page.locator('#audit-table').textContent()).toContain(`/v1/items/${ITEM_NAME_PROBE}`);
    await page.getByLabel(/^Type/).selectOption('key.created');
    await page.getByRole('button', { name: 'Show events' }).click();
    await expect.poll(() => page.locator('#audit-table').textContent()).toContain(KEY_NAME_PROBE);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"], xss-probe, #app script').count()).toBe(0);
    expect(dialogs).toEqual([]);
  });

  it('the audit trail filters by type and time range, pages, and lets an administrator pick a tenant', async () => {
    // Thirty keys of the bootstrap admin's tenant: more events than a page holds.
    for (let i = 0; i < 30; i += 1) {
      const res = await stack.api('/v1/keys', { ...jsonBody({ name: `batch ${i}`, scopes: ['items:read'] }), headers: { ...bearer(stack.config.adminKey), 'content-type': 'application/json' } });
      expect(res.status).toBe(201);
    }
    await page.getByLabel(/^Type/).selectOption('');
    await page.getByLabel(/^Tenant/).fill('admin');
    await page.getByRole('button', { name: 'Show events' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /^Page 1: 25 events; older ones follow\.$/ }).count()).toBe(1);
    expect(new Set(await page.locator('#audit-table td[data-label="Tenant"]').allTextContents())).toEqual(new Set(['admin']));
    await shot('audit');
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /^Page 2: \d+ events?/ }).count()).toBe(1);
    await page.getByRole('button', { name: 'Newer' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: /^Page 1: 25 events/ }).count()).toBe(1);
    // A range that ended before anything happened.
    await page.getByLabel(/^From/).fill('2020-01-01T00:00');
    await page.getByLabel(/^To/).fill('2020-01-02T00:00');
    await page.getByRole('button', { name: 'Show events' }).click();
    await expect.poll(() => page.locator('main').textContent()).toContain('No events in this range.');
    // An API error is shown in words, with the request id to quote.
    await page.getByLabel(/^From/).fill('2020-01-01T00:00');
    await page.getByLabel(/^To/).fill('2020-06-01T00:00');
    await page.getByRole('button', { name: 'Show events' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Validation error' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Request id [0-9a-f-]{36} — quote it when you report this\./);
  });

  it('refreshes the tokens before they expire, without signing in again; a 429 says when to retry, in words', async () => {
    const refreshed = () =>
      page.waitForResponse((r) => r.url() === stack.config.oidc.tokenEndpoint && (r.request().postData() ?? '').includes('grant_type=refresh_token'), {
        timeout: TOKEN_TTL_SECONDS * 1000,
      });
    const token = ((await (await refreshed()).json()) as { access_token: string }).access_token;
    expect(tokenRequests.filter((r) => r.grant === 'authorization_code')).toHaveLength(1);
    // Spend the fresh token's WAF budget from outside the page; the console's next call with it is refused.
    const statuses = await Promise.all(Array.from({ length: RATE_LIMIT_PER_CREDENTIAL + 1 }, () => stack.api('/v1/whoami', { headers: bearer(token) }).then((r) => r.status)));
    expect(statuses).toContain(429);
    await page.getByRole('button', { name: 'Show events' }).click();
    const limited = page.getByRole('alert').filter({ hasText: 'Too many requests' });
    await limited.waitFor();
    expect(await limited.textContent()).toMatch(/Too many requests: try again in \d+ seconds?\./);
    // The next refresh brings a new token, with a budget of its own: the same click works again.
    await refreshed();
    await page.getByLabel(/^From/).fill('');
    await page.getByLabel(/^To/).fill('');
    await page.getByRole('button', { name: 'Show events' }).click();
    await page.locator('#audit-table').waitFor();
    expect(tokenRequests.filter((r) => r.grant === 'refresh_token').every((r) => r.status === 200)).toBe(true);
    expect(tokenRequests.filter((r) => r.grant === 'authorization_code')).toHaveLength(1);
  });

  it('a lost session sends alice to sign in again and keeps what she typed', async () => {
    await goTo('Keys', 'API keys');
    await page.locator('#key-name').fill('typed before the session ended');
    await page.getByRole('checkbox', { name: /usage:read/ }).check();
    refuseNextKeyCreation = true;
    await page.getByRole('button', { name: 'Create key' }).click();
    // The hosted login still has her session: she comes straight back, to the same page, with her draft.
    await expect.poll(() => tokenRequests.filter((r) => r.grant === 'authorization_code').length, { timeout: 10_000 }).toBe(2);
    await page.getByRole('heading', { level: 1, name: 'API keys' }).waitFor();
    expect(refuseNextKeyCreation).toBe(false);
    await expect.poll(() => page.locator('#key-name').inputValue()).toBe('typed before the session ended');
    expect(await page.getByRole('checkbox', { name: /usage:read/ }).isChecked()).toBe(true);
    expect(await page.getByRole('status').filter({ hasText: 'What you typed before signing in again has been kept.' }).count()).toBe(1);
    expect(page.url()).toBe(`${stack.consoleUrl!}#keys`);
  });

  it('at phone width every page fits the screen, and every control has a label', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    // The audit page shows the range kept from before the lost session (31 days or more: refused, in words).
    const loaded = { 'Who am I': '#who-tenant', Keys: '#keys-table', Usage: '#usage-table', 'Audit trail': '#audit-table, main [role="alert"]' };
    for (const [link, heading] of [['Who am I', 'Who am I'], ['Keys', 'API keys'], ['Usage', 'Usage'], ['Audit trail', 'Audit trail']] as const) {
      await goTo(link, heading);
      await page.locator(loaded[link]).first().waitFor();
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${heading} fits`).toBe(true);
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href]')]
          .filter((el) => el.offsetParent !== null)
          .filter((el) => {
            const labels = (el as HTMLInputElement).labels;
            const name = labels && labels.length > 0 ? [...labels].map((l) => l.textContent).join(' ') : (el.getAttribute('aria-label') ?? el.textContent ?? '');
            return name.trim() === '';
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect(unlabelled, heading).toEqual([]);
      if (link === 'Keys') await shot('keys-phone');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('bob (users) sees the audit trail refused, with the scope it needs named', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(8_000);
    const bobPage = await context.newPage();
    watch(bobPage);
    await signIn(bobPage, 'bob');
    expect(await bobPage.locator('#who-admin').textContent()).toBe('No');
    await bobPage.getByRole('link', { name: 'Audit trail' }).click();
    const refusal = bobPage.getByRole('alert').filter({ hasText: 'Not available to you.' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('The audit trail needs the scope audit:read, which your sign-in does not grant.');
    await shot('audit-bob', bobPage);
    // The API agrees: his token is refused the route.
    await context.close();
  });

  it('sign-out ends the hosted session too: a protected page then asks to sign in, and the login page asks for a password', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    // The local provider's end-session page (Cognito's /logout signs out without asking).
    await page.waitForURL((url) => url.origin === new URL(stack.config.oidc.issuer).origin);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('status').filter({ hasText: 'You are signed out, here and at the sign-in service.' }).waitFor();
    expect(page.url()).toBe(stack.consoleUrl);
    await shot('signed-out');
    await page.goto(`${stack.consoleUrl!}#keys`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    expect(new URL(page.url()).origin).toBe(new URL(stack.config.oidc.issuer).origin);
  });

  it('a sign-in response this tab did not start (a forged state) is refused, and its code is never exchanged', async () => {
    // A sign-in under way in this tab (its verifier and state kept), then a response to another one arrives.
    await page.goto(stack.consoleUrl!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    const exchanges = tokenRequests.length;
    await page.goto(`${stack.consoleUrl!}?code=forged-code&state=forged-state`);
    await page.getByRole('alert').filter({ hasText: 'its state does not match' }).waitFor();
    expect(page.url()).not.toContain('code=');
    expect(tokenRequests).toHaveLength(exchanges);
  });

  it('no Content-Security-Policy violation and no dialog in the whole session', () => {
    expect(cspViolations).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
