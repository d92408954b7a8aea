// The only pages a person sees: the sign-in form (no JavaScript, so curl or fetch can drive it), sign-out and errors.
// They stand in for Cognito's managed login, so they look like a sign-in page a person can trust: the product's name,
// visible labels, the error above the fields it is about, and a layout that fits a phone. The one stylesheet is
// inline, allowed by its hash in the pages' Content-Security-Policy (pageHeaders): no script, no other style, no
// other origin, no framing.
import { createHash } from 'node:crypto';

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
:root { color-scheme: light; --ink: #1b2330; --muted: #5b6675; --line: #d4d9e1; --brand: #1f5fbf; --brand-dark: #174a96; --error: #b3261e; --error-bg: #fdecea; }
* { box-sizing: border-box; }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; align-items: center; justify-content: center; gap: 1rem;
  padding: 1.5rem 1rem; background: #eef1f5; color: var(--ink); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { width: 100%; max-width: 24rem; background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 2rem 1.75rem;
  box-shadow: 0 1px 3px rgba(16, 24, 40, .08); }
.brand { display: flex; align-items: center; gap: .6rem; margin: 0 0 1.5rem; font-weight: 650; font-size: 1.15rem; letter-spacing: .01em; }
.mark { width: 2rem; height: 2rem; border-radius: 8px; background: var(--brand); color: #fff; display: grid; place-items: center; font-weight: 700; }
h1 { font-size: 1.4rem; line-height: 1.25; margin: 0 0 .25rem; }
.lead { color: var(--muted); margin: 0 0 1.5rem; }
.alert { border: 1px solid var(--error); background: var(--error-bg); color: var(--error); border-radius: 8px; padding: .65rem .8rem; margin: 0 0 1.25rem; }
form { display: grid; gap: 1rem; margin: 0; }
label { display: grid; gap: .35rem; font-weight: 600; font-size: .95rem; }
input { width: 100%; font: inherit; padding: .65rem .75rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; color: var(--ink); }
input:focus { outline: 3px solid rgba(31, 95, 191, .35); outline-offset: 1px; border-color: var(--brand); }
input[aria-invalid="true"] { border-color: var(--error); }
button { font: inherit; font-weight: 600; padding: .7rem 1rem; border-radius: 8px; border: 1px solid var(--brand); background: var(--brand); color: #fff; cursor: pointer; width: 100%; }
button:hover { background: var(--brand-dark); }
button:focus-visible { outline: 3px solid rgba(31, 95, 191, .45); outline-offset: 2px; }
button.secondary { background: #fff; color: var(--brand); }
.actions { display: grid; gap: .6rem; }
footer { max-width: 24rem; text-align: center; color: var(--muted); font-size: .8rem; }
dl { margin: 0; display: grid; gap: .5rem; } dt { font-weight: 600; } dd { margin: 0; color: var(--muted); overflow-wrap: anywhere; }
@media (max-width: 30rem) { body { justify-content: flex-start; padding: 1rem .75rem; } main { padding: 1.5rem 1.25rem; } }
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * Headers for every page: only the inline stylesheet above runs, nothing else loads, nothing frames the page.
 * No `form-action`: Chromium checks it against the redirects after a submission, and the sign-in ends in a redirect to
 * the client's own URL (a loopback port, the console), which no fixed list here could name.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': `default-src 'none'; style-src ${STYLE_HASH}; base-uri 'none'; frame-ancestors 'none'`,
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title><style>${STYLE}</style></head>
<body><main>
<p class="brand"><span class="mark" aria-hidden="true">G</span>Gatehouse</p>
${body}
</main>
<footer>Local sign-in of the Gatehouse local stack, standing in for Cognito managed login. Its users and their passwords are in the start-up banner and in local.json.</footer>
</body></html>`;
}

/** The sign-in form. `clientName` says what the person signs in to; an error is shown above the fields it concerns. */
export function loginPage(options: { action: string; clientName?: string; username?: string; error?: string }): string {
  const error = options.error ? `<p role="alert" class="alert" id="sign-in-error">${escapeHtml(options.error)}</p>` : '';
  const invalid = options.error ? ' aria-invalid="true" aria-describedby="sign-in-error"' : '';
  const lead = options.clientName ? `to continue to ${escapeHtml(options.clientName)}` : 'with your username and password';
  // With the username kept after an error, the password is where the person goes next.
  const focusUser = options.username ? '' : ' autofocus';
  const focusPassword = options.username ? ' autofocus' : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p class="lead">${lead}</p>
${error}<form method="post" action="${escapeHtml(options.action)}">
<label for="username">Username<input name="username" id="username" autocomplete="username" autocapitalize="none" spellcheck="false" value="${escapeHtml(options.username ?? '')}" required${invalid}${focusUser}></label>
<label for="password">Password<input name="password" type="password" id="password" autocomplete="current-password" required${invalid}${focusPassword}></label>
<button type="submit">Sign in</button>
</form>`,
  );
}

/**
 * The sign-out confirmation (oidc-provider's end_session: `form` is its hidden form, id `op.logoutForm`, carrying the
 * anti-CSRF token). Cognito's /logout signs out without asking; here one click does, with no script on the page.
 */
export function logoutPage(form: string): string {
  return page(
    'Sign out',
    `<h1>Sign out</h1>
<p class="lead">Sign out of Gatehouse on this browser?</p>
${form}
<div class="actions">
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>
</div>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<h1>Signed out</h1>\n<p class="lead">You are signed out of Gatehouse on this browser. You can close this page.</p>');
}

export function errorPage(fields: Record<string, unknown>): string {
  const rows = Object.entries(fields)
    .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  return page('Error', `<h1>Something went wrong</h1>\n<p class="lead">The sign-in could not go on. Start it again from the application.</p>\n<dl>${rows}</dl>`);
}
