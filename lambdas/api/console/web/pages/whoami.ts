/** Who am I: the principal as the API sees it — tenant, scopes, whether an administrator. */
import type { PageContext } from '../context.js';
import { h } from '../dom.js';
import { pageHeading, scopeList } from '../views.js';

export function whoamiPage(ctx: PageContext): HTMLElement {
  const { whoami, claims, admin, config } = ctx;
  return h(
    'div',
    {},
    pageHeading('Who am I', 'The principal the API sees when you call it with this sign-in.'),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'who-facts' },
      h('h2', { id: 'who-facts' }, 'Principal'),
      h(
        'dl',
        { class: 'facts' },
        h('dt', {}, 'Signed in as'),
        h('dd', {}, claims?.username ?? claims?.email ?? whoami.principalId),
        h('dt', {}, 'Principal id'),
        h('dd', {}, h('code', {}, whoami.principalId)),
        h('dt', {}, 'Tenant'),
        h('dd', {}, h('code', { id: 'who-tenant' }, whoami.tenant)),
        h('dt', {}, 'Administrator'),
        h('dd', { id: 'who-admin' }, admin ? 'Yes — a member of admins: you may read every tenant’s audit trail' : 'No'),
        h('dt', {}, 'Groups'),
        h('dd', {}, claims && claims.groups.length > 0 ? claims.groups.join(', ') : h('span', { class: 'muted' }, 'none')),
        h('dt', {}, 'Credential'),
        h('dd', {}, whoami.authMethod === 'jwt' ? 'Your sign-in token (it refreshes while this page is open)' : whoami.authMethod),
      ),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'who-scopes' },
      h('h2', { id: 'who-scopes' }, 'Scopes'),
      h('p', { class: 'hint' }, 'What you may do, and the most a key you create may hold.'),
      whoami.scopes.length > 0
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'stack' },
              h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Scope'), h('th', { scope: 'col' }, 'What it allows'))),
              h('tbody', {}, whoami.scopes.map((scope) => h('tr', {}, h('td', { 'data-label': 'Scope' }, h('code', {}, scope)), h('td', { 'data-label': 'Allows' }, config.scopes[scope] ?? '')))),
            ),
          )
        : scopeList([]),
    ),
  );
}
