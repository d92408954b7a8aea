/**
 * Keys: create one (a name, scopes among the person's own, an optional expiry) and see it once, with a copy button;
 * list the tenant's keys with status, last use and creator; revoke after a confirmation; rotate with a grace period.
 */
import { SessionLost } from '../api.js';
import type { PageContext } from '../context.js';
import { h, replace, uid } from '../dom.js';
import { drafted, forgetDrafts } from '../drafts.js';
import type { CreatedKey, KeyList, KeyView, UsageList } from '../types.js';
import { cell, instantOf, missingScope, missingScopeView, notServedView, pageHeading, problemView, scopeList, time } from '../views.js';

/** Pages of usage read to find each key's last use (a tenant with more used keys sees the rest on the usage page). */
const MAX_USAGE_PAGES = 5;

export function keysPage(ctx: PageContext): HTMLElement {
  const { api, config, whoami } = ctx;
  const root = h('div', {}, pageHeading('API keys', "Create, rotate and revoke your tenant's keys. A key holds at most the scopes you hold."));
  if (!api.serves('listKeys')) {
    root.append(notServedView('Key management'));
    return root;
  }
  const readMissing = missingScope(config, 'listKeys', whoami.scopes);
  if (readMissing) {
    root.append(missingScopeView(config, readMissing, 'Listing keys'));
    return root;
  }
  const writeMissing = missingScope(config, 'createKey', whoami.scopes);
  const canWrite = writeMissing === undefined && api.serves('createKey');
  const usageMissing = !api.serves('usage') || missingScope(config, 'usage', whoami.scopes) !== undefined;

  const secretArea = h('div', {});
  const confirmArea = h('div', {});
  const listStatus = h('p', { role: 'status', class: 'muted' });
  const listError = h('div', {});
  const tableArea = h('div', { class: 'table-wrap' });
  const more = h('button', { type: 'button', hidden: true, on: { click: () => void load(true) } }, 'Load more keys');
  let keys: KeyView[] = [];
  let nextToken: string | undefined;
  let lastUsed = new Map<string, string>();

  // --- The key shown once ------------------------------------------------------------------------------------
  function showSecret(created: CreatedKey, title: string): void {
    const titleId = uid('secret-title');
    const warningId = uid('secret-warning');
    const field = h('input', { type: 'text', id: 'new-key-value', class: 'secret-value', readonly: true, value: created.key, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': warningId });
    field.addEventListener('focus', () => field.select());
    const copyStatus = h('p', { role: 'status', id: 'copy-status' });
    const panel = h(
      'section',
      { class: 'panel secret', id: 'new-key', 'aria-labelledby': titleId },
      h('h2', { id: titleId, tabindex: '-1' }, title),
      h(
        'p',
        { class: 'alert warning', id: warningId },
        h('strong', {}, 'Copy this key now: it is shown only this once. '),
        'Gatehouse keeps only a hash of it, so nobody can show it again. If it is lost, rotate or revoke it.',
      ),
      h(
        'div',
        { class: 'copy-row' },
        h('label', { for: 'new-key-value' }, 'API key', field),
        h(
          'button',
          {
            type: 'button',
            class: 'primary',
            on: {
              click: () => {
                navigator.clipboard.writeText(created.key).then(
                  () => (copyStatus.textContent = 'Copied to the clipboard.'),
                  () => {
                    field.focus();
                    copyStatus.textContent = 'This browser did not allow copying: the key is selected, copy it with Ctrl+C (⌘C on a Mac).';
                  },
                );
              },
            },
          },
          'Copy key',
        ),
      ),
      copyStatus,
      h('dl', { class: 'facts' }, h('dt', {}, 'Scopes'), h('dd', {}, scopeList(created.scopes)), h('dt', {}, 'Expires'), h('dd', {}, created.expiresAt ? time(created.expiresAt) : 'never')),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          {
            type: 'button',
            on: {
              click: () => {
                // The plaintext leaves the page with the panel.
                field.value = '';
                panel.remove();
                root.querySelector<HTMLElement>('.page-title')?.focus();
              },
            },
          },
          'Done: I have stored it',
        ),
      ),
    );
    replace(secretArea, panel);
    panel.querySelector<HTMLElement>('h2')?.focus();
  }

  // --- Create ------------------------------------------------------------------------------------------------
  function createSection(): HTMLElement {
    if (!canWrite) return writeMissing ? missingScopeView(config, writeMissing, 'Creating, rotating and revoking keys') : notServedView('Creating keys');
    const error = h('div', {});
    const name = drafted(h('input', { type: 'text', id: 'key-name', name: 'name', required: true, maxlength: '100', autocomplete: 'off' }), 'create.name');
    const boxes = whoami.scopes.map((scope) => drafted(h('input', { type: 'checkbox', name: 'scope', value: scope }), `create.scope.${scope}`));
    const expires = drafted(h('input', { type: 'datetime-local', id: 'key-expires', name: 'expiresAt' }), 'create.expires');
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Create key');
    const form = h(
      'form',
      { id: 'create-key', novalidate: true, 'aria-describedby': 'create-hint' },
      h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name', h('span', { class: 'hint' }, 'What the key is for, e.g. “CI deploy” (1–100 characters)'), name))),
      h(
        'fieldset',
        {},
        h('legend', {}, 'Scopes'),
        h('p', { class: 'hint', id: 'create-hint' }, 'Only scopes you hold can be given to a key.'),
        h('div', { class: 'checks' }, boxes.map((box, i) => h('label', {}, box, h('span', {}, h('code', {}, whoami.scopes[i]), h('span', { class: 'hint' }, config.scopes[whoami.scopes[i]!] ?? ''))))),
      ),
      h('div', { class: 'row' }, h('div', { class: 'field narrow' }, h('label', { for: 'key-expires' }, 'Expires (optional)', h('span', { class: 'hint' }, 'Your local time; empty: never'), expires))),
      error,
      h('div', { class: 'actions' }, submit),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      replace(error);
      const scopes = boxes.filter((b) => b.checked).map((b) => b.value);
      const problems = [
        name.value.trim() === '' ? 'Give the key a name.' : undefined,
        scopes.length === 0 ? 'Choose at least one scope.' : undefined,
        expires.value !== '' && instantOf(expires.value) === undefined ? 'The expiry is not a valid date and time.' : undefined,
      ].filter((p): p is string => p !== undefined);
      if (problems.length > 0) {
        replace(error, h('div', { class: 'alert error', role: 'alert' }, problems.map((p) => h('p', {}, p))));
        return;
      }
      const expiresAt = instantOf(expires.value);
      submit.disabled = true;
      api
        .call<CreatedKey>('createKey', { body: { name: name.value.trim(), scopes, ...(expiresAt ? { expiresAt } : {}) } })
        .then(async (created) => {
          forgetDrafts('create.');
          form.reset();
          showSecret(created, `New key “${created.name}”`);
          await load(false);
        })
        .catch((e: unknown) => replace(error, problemView(e)))
        .finally(() => (submit.disabled = false));
    });
    return h('section', { class: 'panel', 'aria-labelledby': 'create-title' }, h('h2', { id: 'create-title' }, 'Create a key'), form);
  }

  // --- Revoke and rotate, each confirmed first ----------------------------------------------------------------
  function confirmPanel(titleText: string, body: HTMLElement[], confirmLabel: string, danger: boolean, act: (error: HTMLElement, button: HTMLButtonElement) => void): void {
    const titleId = uid('confirm-title');
    const error = h('div', {});
    const confirm = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
    confirm.addEventListener('click', () => act(error, confirm));
    const panel = h(
      'section',
      { class: 'panel', role: 'region', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, titleText),
      ...body,
      error,
      h('div', { class: 'actions' }, confirm, h('button', { type: 'button', on: { click: () => replace(confirmArea) } }, 'Cancel')),
    );
    replace(confirmArea, panel);
    (panel.querySelector<HTMLElement>('input') ?? confirm).focus();
  }

  function askRevoke(key: KeyView): void {
    confirmPanel(
      `Revoke “${key.name}”?`,
      [h('p', {}, 'Requests with ', h('code', {}, `${key.prefix}…`), ' are refused within seconds, everywhere. This cannot be undone.')],
      'Revoke key',
      true,
      (error, button) => {
        button.disabled = true;
        api
          .call('revokeKey', { params: { keyId: key.id } })
          .then(async () => {
            replace(confirmArea);
            listStatus.textContent = `Revoked “${key.name}”.`;
            await load(false);
          })
          .catch((e: unknown) => replace(error, problemView(e)))
          .finally(() => (button.disabled = false));
      },
    );
  }

  function askRotate(key: KeyView): void {
    const grace = drafted(h('input', { type: 'number', id: 'rotate-grace', min: '0', max: String(config.maxGraceSeconds), step: '1', value: '3600', required: true }), 'rotate.grace');
    confirmPanel(
      `Rotate “${key.name}”`,
      [
        h('p', {}, 'A new key with the same name, scopes and expiry replaces it. The old key keeps working for the grace period, so you can switch over.'),
        h(
          'div',
          { class: 'field narrow' },
          h('label', { for: 'rotate-grace' }, 'Grace period in seconds', h('span', { class: 'hint' }, `0 ends the old key now; at most ${config.maxGraceSeconds} (24 hours)`), grace),
        ),
      ],
      'Rotate key',
      false,
      (error, button) => {
        const seconds = Number(grace.value);
        if (!/^\d+$/.test(grace.value) || seconds > config.maxGraceSeconds) {
          replace(error, h('div', { class: 'alert error', role: 'alert' }, h('p', {}, `The grace period is a whole number of seconds from 0 to ${config.maxGraceSeconds}.`)));
          return;
        }
        button.disabled = true;
        api
          .call<CreatedKey>('rotateKey', { params: { keyId: key.id }, body: { gracePeriodSeconds: seconds } })
          .then(async (successor) => {
            forgetDrafts('rotate.');
            replace(confirmArea);
            showSecret(successor, `Successor of “${key.name}”`);
            await load(false);
          })
          .catch((e: unknown) => replace(error, problemView(e)))
          .finally(() => (button.disabled = false));
      },
    );
  }

  // --- The list ----------------------------------------------------------------------------------------------
  function status(key: KeyView): HTMLElement {
    if (key.status === 'active' && key.graceUntil) {
      return h('span', {}, h('span', { class: 'badge grace' }, 'rotated'), ' works until ', time(key.graceUntil));
    }
    return h('span', { class: `badge ${key.status}` }, key.status);
  }

  function actions(key: KeyView): HTMLElement | string {
    if (!canWrite || key.status !== 'active') return '';
    const label = (verb: string) => [verb, h('span', { class: 'visually-hidden' }, ` key ${key.name}`)];
    return h(
      'div',
      { class: 'actions' },
      key.rotatedTo ? null : h('button', { type: 'button', class: 'small', on: { click: () => askRotate(key) } }, label('Rotate')),
      h('button', { type: 'button', class: 'small', on: { click: () => askRevoke(key) } }, label('Revoke')),
    );
  }

  function renderTable(): void {
    if (keys.length === 0) {
      replace(tableArea, h('p', { class: 'muted' }, 'No keys yet.'));
      return;
    }
    const lastUse = (key: KeyView) => (usageMissing ? h('span', { class: 'muted', title: 'needs usage:read' }, '—') : lastUsed.has(key.id) ? time(lastUsed.get(key.id)) : h('span', { class: 'muted' }, 'never'));
    replace(
      tableArea,
      h(
        'table',
        { class: 'stack', id: 'keys-table' },
        h('caption', { class: 'visually-hidden' }, "Your tenant's API keys, newest first"),
        h('thead', {}, h('tr', {}, ['Name', 'Key', 'Scopes', 'Plan', 'Status', 'Created', 'Created by', 'Expires', 'Last used', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          keys.map((key) =>
            h(
              'tr',
              { 'data-key-id': key.id },
              cell('Name', h('span', { class: 'key-name' }, key.name), key.admin ? h('span', { class: 'hint' }, 'bootstrap admin key') : null),
              cell('Key', h('code', { class: 'prefix' }, `${key.prefix}…`)),
              cell('Scopes', scopeList(key.scopes)),
              cell('Plan', key.plan),
              cell('Status', status(key)),
              cell('Created', time(key.createdAt)),
              cell('Created by', h('code', {}, key.createdBy)),
              cell('Expires', key.expiresAt ? time(key.expiresAt) : h('span', { class: 'muted' }, 'never')),
              cell('Last used', lastUse(key)),
              cell('Actions', actions(key)),
            ),
          ),
        ),
      ),
    );
  }

  async function loadLastUsed(): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    let token: string | undefined;
    for (let page = 0; page < MAX_USAGE_PAGES; page += 1) {
      const usage = await api.call<UsageList>('usage', { query: { nextToken: token } });
      for (const row of usage.usage) found.set(row.keyId, row.lastUsedAt);
      token = usage.nextToken;
      if (!token) break;
    }
    return found;
  }

  async function load(append: boolean): Promise<void> {
    replace(listError);
    more.disabled = true;
    try {
      const page = await api.call<KeyList>('listKeys', { query: { limit: 50, nextToken: append ? nextToken : undefined } });
      keys = append ? [...keys, ...page.keys] : [...page.keys];
      nextToken = page.nextToken;
      if (!append && !usageMissing) {
        lastUsed = await loadLastUsed().catch((e: unknown) => {
          if (e instanceof SessionLost) throw e;
          replace(listError, problemView(e));
          return lastUsed;
        });
      }
      renderTable();
    } catch (e) {
      replace(listError, problemView(e));
    } finally {
      more.hidden = nextToken === undefined;
      more.disabled = false;
    }
  }

  root.append(
    secretArea,
    createSection(),
    h('section', { class: 'panel', 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title' }, "Your tenant's keys"), confirmArea, listStatus, listError, tableArea, more),
  );
  void load(false);
  return root;
}
