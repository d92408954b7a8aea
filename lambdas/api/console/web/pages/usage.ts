/** Usage: requests allowed with each of the tenant's keys, as a chart and a table. */
import { SessionLost } from '../api.js';
import { barChart } from '../chart.js';
import type { PageContext } from '../context.js';
import { h, replace } from '../dom.js';
import type { KeyList, UsageList } from '../types.js';
import { cell, missingScope, missingScopeView, notServedView, pageHeading, problemView, time } from '../views.js';

const MAX_PAGES = 10;
const CHART_BARS = 12;

export function usagePage(ctx: PageContext): HTMLElement {
  const { api, config, whoami } = ctx;
  const root = h('div', {}, pageHeading('Usage', "Requests allowed with each of your tenant's keys."));
  if (!api.serves('usage')) {
    root.append(notServedView('Usage'));
    return root;
  }
  const missing = missingScope(config, 'usage', whoami.scopes);
  if (missing) {
    root.append(missingScopeView(config, missing, 'Usage'));
    return root;
  }
  const body = h('div', {}, h('p', { class: 'muted', role: 'status' }, 'Loading usage…'));
  root.append(h('section', { class: 'panel', 'aria-labelledby': 'usage-title' }, h('h2', { id: 'usage-title' }, 'Requests per key'), body));

  async function names(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (!api.serves('listKeys') || missingScope(config, 'listKeys', whoami.scopes)) return found;
    let token: string | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const list = await api.call<KeyList>('listKeys', { query: { limit: 100, nextToken: token } });
      for (const key of list.keys) found.set(key.id, key.name);
      token = list.nextToken;
      if (!token) break;
    }
    return found;
  }

  async function load(): Promise<void> {
    try {
      const rows: UsageList['usage'][number][] = [];
      let token: string | undefined;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const usage = await api.call<UsageList>('usage', { query: { nextToken: token } });
        rows.push(...usage.usage);
        token = usage.nextToken;
        if (!token) break;
      }
      const byId = await names().catch((e: unknown) => {
        if (e instanceof SessionLost) throw e;
        return new Map<string, string>();
      });
      if (rows.length === 0) {
        replace(body, h('p', { class: 'muted' }, 'No key of your tenant has been used yet. Counts arrive within about a minute of use.'));
        return;
      }
      rows.sort((a, b) => b.requests - a.requests);
      const label = (id: string) => byId.get(id) ?? id;
      replace(
        body,
        barChart(
          `Requests per key, ${rows.length} key${rows.length === 1 ? '' : 's'}`,
          rows.slice(0, CHART_BARS).map((r) => ({ label: label(r.keyId), value: r.requests })),
          rows.length > CHART_BARS ? `The ${CHART_BARS} busiest keys; every key is in the table.` : 'Each authorizer counts the requests it allows and writes them at most once a minute.',
        ),
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'stack', id: 'usage-table' },
            h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Key id'), h('th', { scope: 'col', class: 'num' }, 'Requests'), h('th', { scope: 'col' }, 'Last used'), h('th', { scope: 'col' }, 'Plan'), h('th', { scope: 'col' }, 'Quota this period'))),
            h(
              'tbody',
              {},
              rows.map((r) =>
                h(
                  'tr',
                  {},
                  cell('Key', label(r.keyId)),
                  cell('Key id', h('code', {}, r.keyId)),
                  h('td', { class: 'num', 'data-label': 'Requests' }, r.requests.toLocaleString()),
                  cell('Last used', time(r.lastUsedAt)),
                  cell('Plan', r.plan),
                  // Units handed out this period, and what remains until it resets (docs/plans.md).
                  r.quota
                    ? cell('Quota this period', `${r.quota.used.toLocaleString()} of ${r.quota.limit.toLocaleString()} (${r.quota.remaining.toLocaleString()} left, resets `, time(r.quota.resetsAt), ')')
                    : cell('Quota this period', 'no quota'),
                ),
              ),
            ),
          ),
        ),
      );
    } catch (e) {
      replace(body, problemView(e));
    }
  }
  void load();
  return root;
}
