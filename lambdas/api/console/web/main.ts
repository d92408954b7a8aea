/**
 * The console in the browser: reads the deployment's configuration, finishes or starts a sign-in, then draws the
 * pages (who am I, keys, usage, audit) by the address's #fragment. No framework: DOM built with dom.ts.
 */
import type { ConsoleConfig } from '../config.js';
import { Api } from './api.js';
import { Auth, SignInError } from './auth.js';
import type { PageContext } from './context.js';
import { h, replace, type Child } from './dom.js';
import { keepDrafts, loadDrafts } from './drafts.js';
import { auditPage } from './pages/audit.js';
import { keysPage } from './pages/keys.js';
import { usagePage } from './pages/usage.js';
import { whoamiPage } from './pages/whoami.js';
import type { Whoami } from './types.js';
import { problemView } from './views.js';

const PAGES = {
  whoami: { title: 'Who am I', draw: whoamiPage },
  keys: { title: 'Keys', draw: keysPage },
  usage: { title: 'Usage', draw: usagePage },
  audit: { title: 'Audit trail', draw: auditPage },
} as const;
type PageName = keyof typeof PAGES;

const app = document.getElementById('app')!;

function pageOf(hash: string): PageName {
  const name = hash.replace(/^#/, '');
  return Object.hasOwn(PAGES, name) ? (name as PageName) : 'whoami';
}

/** Where the stage is: the page is at `<origin><stage prefix><consolePath>`; the API's routes are under the same prefix. */
function locate(consolePath: string): { base: string; pageUrl: string } {
  const path = location.pathname.replace(/\/+$/, '');
  const prefix = path.endsWith(consolePath) ? path.slice(0, path.length - consolePath.length) : '';
  const base = location.origin + prefix;
  return { base, pageUrl: base + consolePath };
}

function iconHref(): string | undefined {
  return document.querySelector<HTMLLinkElement>('link[rel="icon"]')?.href;
}

/** The page shown to someone not signed in: why, and the button to sign in. */
function landing(auth: Auth | undefined, ...notices: Child[]): void {
  const button = auth ? h('button', { type: 'button', class: 'primary', id: 'sign-in', on: { click: () => void auth.begin(location.hash) } }, 'Sign in') : null;
  replace(
    app,
    h(
      'main',
      { id: 'main', tabindex: '-1', class: 'landing' },
      h('h1', {}, 'Gatehouse console'),
      h('p', { class: 'lead' }, "Sign in to manage your tenant's API keys and see their usage and the audit trail."),
      ...notices,
      button,
    ),
  );
  document.title = 'Sign in · Gatehouse console';
  button?.focus();
}

function shell(ctx: PageContext, auth: Auth): void {
  const main = h('main', { id: 'main', tabindex: '-1' });
  const links = (Object.keys(PAGES) as PageName[]).map((name) => h('a', { href: `#${name}`, 'data-page': name }, PAGES[name].title));
  const icon = iconHref();
  const who = ctx.claims?.username ?? ctx.claims?.email ?? ctx.whoami.principalId;
  replace(
    app,
    h(
      'header',
      { class: 'bar' },
      h('span', { class: 'brand' }, icon ? h('img', { src: icon, alt: '' }) : null, 'Gatehouse console'),
      h('nav', { 'aria-label': 'Console' }, h('ul', {}, links.map((a) => h('li', {}, a)))),
      h('div', { class: 'who' }, h('span', {}, who, ' · tenant ', h('code', {}, ctx.whoami.tenant)), h('button', { type: 'button', id: 'sign-out', on: { click: () => auth.signOut() } }, 'Sign out')),
    ),
    main,
  );

  let first = true;
  const show = () => {
    // The skip link's own target is not a page.
    if (location.hash === '#main') return;
    const name = pageOf(location.hash);
    for (const a of links) {
      if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    replace(main, PAGES[name].draw(ctx));
    document.title = `${PAGES[name].title} · Gatehouse console`;
    // After a navigation (not the first draw), move focus to the new page's heading, as a page load would.
    if (!first) main.querySelector<HTMLElement>('.page-title')?.focus();
    first = false;
  };
  window.addEventListener('hashchange', show);
  show();
}

async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch(new URL('console/config.json', location.href), { cache: 'no-store', credentials: 'omit' });
  if (!response.ok) throw new Error(`The console's configuration could not be loaded (HTTP ${response.status}).`);
  return (await response.json()) as ConsoleConfig;
}

async function start(): Promise<void> {
  const config = await loadConfig();
  if (!config.signIn) {
    landing(undefined, h('div', { class: 'alert info', role: 'status' }, h('p', {}, 'This deployment configured no sign-in for the console: the API still works with keys and tokens.')));
    return;
  }
  const { base, pageUrl } = locate(config.consolePath);
  const auth = new Auth(config.signIn, pageUrl);
  const drafts = loadDrafts();
  const kept = drafts > 0 ? h('div', { class: 'alert info', role: 'status' }, h('p', {}, 'What you typed before signing in again has been kept.')) : null;

  if (Auth.isCallback()) {
    try {
      await auth.complete();
    } catch (error) {
      keepDrafts();
      landing(auth, error instanceof SignInError ? h('div', { class: 'alert error', role: 'alert' }, h('p', {}, error.message)) : problemView(error));
      return;
    }
  } else if (Auth.hadSession() && Auth.mayAutoSignIn()) {
    // A reload: the tokens were in memory only. The hosted login's session brings the person straight back.
    keepDrafts();
    await auth.begin(location.hash, true);
    return;
  }
  if (!auth.signedIn) {
    keepDrafts();
    landing(auth, Auth.takeSignedOut() ? h('div', { class: 'alert success', role: 'status' }, h('p', {}, 'You are signed out, here and at the sign-in service.')) : null, kept);
    return;
  }

  const onSessionLost = () => {
    keepDrafts();
    if (Auth.mayAutoSignIn()) {
      void auth.begin(location.hash, true);
      return;
    }
    landing(
      auth,
      h(
        'div',
        { class: 'alert error', role: 'alert' },
        h('p', {}, h('strong', {}, 'The API refused your sign-in. '), 'It did so again right after you signed in, so the console stopped instead of trying forever.'),
        h('p', {}, 'Sign in again; if this persists, the console’s client may not be among the clients this deployment accepts tokens from.'),
      ),
    );
  };
  const api = new Api(config, base, auth, onSessionLost);
  let whoami: Whoami;
  try {
    whoami = await api.call<Whoami>('whoami');
  } catch (error) {
    const view = problemView(error);
    if (view) landing(auth, view);
    return;
  }
  const claims = auth.claims;
  shell({ config, api, whoami, claims, admin: claims?.groups.includes(config.adminGroup) ?? false }, auth);
  if (kept) app.querySelector('main')?.prepend(kept);
}

start().catch((error: unknown) => landing(undefined, problemView(error)));
