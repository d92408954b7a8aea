/**
 * Audit trail: events of the tenant (every tenant's for administrators, who may pick one), filtered by time range and
 * type, a page at a time. Everything an event holds — paths and reasons written from requests anyone can send — is
 * shown as text.
 */
import type { PageContext } from '../context.js';
import { h, replace } from '../dom.js';
import { drafted } from '../drafts.js';
import type { AuditEvent, AuditList } from '../types.js';
import { cell, instantOf, missingScope, missingScopeView, notServedView, pageHeading, problemView, time } from '../views.js';

const PAGE_SIZE = 25;

type Query = Readonly<Record<string, string | number | undefined>>;

export function auditPage(ctx: PageContext): HTMLElement {
  const { api, config, whoami, admin } = ctx;
  const root = h('div', {}, pageHeading('Audit trail', 'Key creations, rotations and revocations, and refused credentials, newest first.'));
  if (!api.serves('audit')) {
    root.append(notServedView('The audit trail'));
    return root;
  }
  const missing = missingScope(config, 'audit', whoami.scopes);
  if (missing) {
    root.append(missingScopeView(config, missing, 'The audit trail'));
    return root;
  }

  const from = drafted(h('input', { type: 'datetime-local', id: 'audit-from', name: 'from' }), 'audit.from');
  const to = drafted(h('input', { type: 'datetime-local', id: 'audit-to', name: 'to' }), 'audit.to');
  const type = drafted(
    h('select', { id: 'audit-type', name: 'type' }, h('option', { value: '' }, 'Any type'), config.auditEventTypes.map((t) => h('option', { value: t }, t))),
    'audit.type',
  );
  const tenant = admin ? drafted(h('input', { type: 'text', id: 'audit-tenant', name: 'tenant', autocomplete: 'off', spellcheck: 'false' }), 'audit.tenant') : undefined;
  const formError = h('div', {});
  const results = h('div', {});
  const pageStatus = h('p', { role: 'status', class: 'muted' });
  const newer = h('button', { type: 'button', disabled: true }, 'Newer');
  const older = h('button', { type: 'button', disabled: true }, 'Older');
  /** Tokens of the pages shown so far: [undefined (the first), token of the 2nd, …]. */
  let tokens: (string | undefined)[] = [undefined];
  let next: string | undefined;
  let query: Query = {};

  function eventRow(event: AuditEvent): HTMLTableRowElement {
    const details = Object.entries(event.details ?? {});
    return h(
      'tr',
      {},
      cell('Time', time(event.at)),
      cell('Type', h('code', {}, event.type)),
      cell('Tenant', h('code', {}, event.tenant)),
      cell('Actor', event.actor ? h('code', {}, event.actor) : h('span', { class: 'muted' }, '—')),
      cell('Key', event.keyId ? h('code', {}, event.keyId) : h('span', { class: 'muted' }, '—')),
      cell('Reason', event.reason ?? ''),
      cell('Details', details.length > 0 ? h('ul', { class: 'details' }, details.map(([k, v]) => h('li', {}, h('span', { class: 'muted' }, `${k}: `), String(v)))) : ''),
    );
  }

  async function show(index: number): Promise<void> {
    replace(results, h('p', { class: 'muted' }, 'Loading events…'));
    newer.disabled = older.disabled = true;
    try {
      const page = await api.call<AuditList>('audit', { query: { ...query, limit: PAGE_SIZE, nextToken: tokens[index] } });
      tokens = tokens.slice(0, index + 1);
      next = page.nextToken;
      pageStatus.textContent = `Page ${index + 1}: ${page.events.length} event${page.events.length === 1 ? '' : 's'}${next ? '; older ones follow' : ''}.`;
      replace(
        results,
        page.events.length === 0
          ? h('p', { class: 'muted' }, 'No events in this range.')
          : h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'stack', id: 'audit-table' },
                h('thead', {}, h('tr', {}, ['Time', 'Type', 'Tenant', 'Actor', 'Key', 'Reason', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
                h('tbody', {}, page.events.map(eventRow)),
              ),
            ),
      );
      newer.disabled = index === 0;
      older.disabled = next === undefined;
      newer.onclick = () => void show(index - 1);
      older.onclick = () => {
        tokens[index + 1] = next;
        void show(index + 1);
      };
    } catch (e) {
      replace(results, problemView(e));
      newer.disabled = index === 0;
    }
  }

  const form = h(
    'form',
    { id: 'audit-filters', novalidate: true },
    h(
      'div',
      { class: 'row' },
      h('div', { class: 'field narrow' }, h('label', { for: 'audit-from' }, 'From', h('span', { class: 'hint' }, 'Your local time'), from)),
      h('div', { class: 'field narrow' }, h('label', { for: 'audit-to' }, 'To', h('span', { class: 'hint' }, 'Empty: now'), to)),
      h('div', { class: 'field narrow' }, h('label', { for: 'audit-type' }, 'Type', h('span', { class: 'hint' }, 'Any, or one kind'), type)),
      tenant ? h('div', { class: 'field' }, h('label', { for: 'audit-tenant' }, 'Tenant', h('span', { class: 'hint' }, 'Administrators: empty shows every tenant'), tenant)) : null,
    ),
    h('p', { class: 'hint' }, 'Without a range: the last 24 hours. A range spans at most 31 days.'),
    formError,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Show events')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    replace(formError);
    const bad = [from, to].filter((field) => field.value !== '' && instantOf(field.value) === undefined);
    if (bad.length > 0) {
      replace(formError, h('div', { class: 'alert error', role: 'alert' }, h('p', {}, 'Enter the range as dates and times.')));
      return;
    }
    query = { from: instantOf(from.value), to: instantOf(to.value), type: type.value || undefined, tenant: tenant?.value.trim() || undefined };
    tokens = [undefined];
    void show(0);
  });

  root.append(
    h('section', { class: 'panel', 'aria-labelledby': 'audit-filter-title' }, h('h2', { id: 'audit-filter-title' }, 'Filter'), form),
    h('section', { class: 'panel', 'aria-labelledby': 'audit-events-title' }, h('h2', { id: 'audit-events-title' }, 'Events'), pageStatus, results, h('div', { class: 'actions' }, newer, older)),
  );
  query = { tenant: tenant?.value.trim() || undefined, type: type.value || undefined, from: instantOf(from.value), to: instantOf(to.value) };
  void show(0);
  return root;
}
