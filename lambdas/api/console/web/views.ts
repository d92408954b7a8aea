/** View pieces every page uses: headings, errors in words, the missing-scope notice, times, scope lists. */
import type { ConsoleConfig, ConsoleOperation } from '../config.js';
import { ApiProblem, SessionLost } from './api.js';
import { h, type Child } from './dom.js';

/** A page's heading (focused when the page is shown, so a screen reader announces it) and its lead paragraph. */
export function pageHeading(title: string, lead?: string): Child[] {
  return [h('h1', { tabindex: '-1', class: 'page-title' }, title), lead ? h('p', { class: 'lead' }, lead) : null];
}

/** An error in words: the envelope's title and detail, the fields it names, when to retry, the request id to quote. */
export function problemView(error: unknown): HTMLElement | null {
  if (error instanceof SessionLost) return null;
  if (!(error instanceof ApiProblem)) {
    return h('div', { class: 'alert error', role: 'alert' }, h('p', {}, h('strong', {}, 'Something went wrong. '), error instanceof Error ? error.message : String(error)));
  }
  return h(
    'div',
    { class: 'alert error', role: 'alert' },
    h('p', {}, h('strong', {}, `${error.title}. `), error.detail),
    error.fields.length > 0 ? h('ul', {}, error.fields.map((f) => h('li', {}, f.field ? h('code', {}, f.field) : 'request', `: ${f.message}`))) : null,
    error.status === 429
      ? h('p', {}, error.retryAfterSeconds !== undefined ? `Too many requests: try again in ${error.retryAfterSeconds} second${error.retryAfterSeconds === 1 ? '' : 's'}.` : 'Too many requests: wait a moment and try again.')
      : null,
    error.requestId ? h('p', { class: 'request-id' }, 'Request id ', h('code', {}, error.requestId), ' — quote it when you report this.') : null,
  );
}

/** Why a page (or an action) is not available: the scope its route needs, which the person does not hold. */
export function missingScopeView(config: ConsoleConfig, scope: string, what: string): HTMLElement {
  return h(
    'div',
    { class: 'alert warning', role: 'alert' },
    h('p', {}, h('strong', {}, 'Not available to you. '), `${what} needs the scope `, h('code', {}, scope), ', which your sign-in does not grant.'),
    config.scopes[scope] ? h('p', {}, `${scope}: ${config.scopes[scope]}.`) : null,
    h('p', {}, 'Ask an administrator for a group that holds it, then sign in again.'),
  );
}

/** The scope `operation` needs that `held` lacks, if any. */
export function missingScope(config: ConsoleConfig, operation: ConsoleOperation, held: readonly string[]): string | undefined {
  const scope = config.routes[operation]?.scope;
  return scope !== undefined && !held.includes(scope) ? scope : undefined;
}

export function notServedView(what: string): HTMLElement {
  return h('div', { class: 'alert info', role: 'status' }, h('p', {}, `${what} is not part of this deployment.`));
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A time element: local time as text, the instant in `datetime` and `title`. */
export function time(iso: string | undefined | null): Child {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return h('time', { datetime: at.toISOString(), title: at.toISOString() }, timeFormat.format(at));
}

export function scopeList(scopes: readonly string[]): HTMLElement {
  return scopes.length > 0 ? h('ul', { class: 'scopes', 'aria-label': 'scopes' }, scopes.map((scope) => h('li', {}, scope))) : h('span', { class: 'muted' }, 'none');
}

/** `datetime-local` input text (local time) as an ISO instant; undefined for an empty or invalid field. */
export function instantOf(local: string): string | undefined {
  if (!local) return undefined;
  const at = new Date(local);
  return Number.isNaN(at.getTime()) ? undefined : at.toISOString();
}

/** A table cell that carries its column name, shown beside it when the table stacks at phone width. */
export function cell(label: string, ...children: Child[]): HTMLTableCellElement {
  return h('td', { 'data-label': label }, ...children);
}
