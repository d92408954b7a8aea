// The only pages a person sees: a plain login form (no JavaScript, so curl or fetch can drive it) and errors.

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>${body}</body></html>`;
}

export function loginPage(options: { action: string; clientId: string; username?: string; error?: string }): string {
  const error = options.error ? `<p role="alert" class="error">${escapeHtml(options.error)}</p>` : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>Local OIDC provider, client <code>${escapeHtml(options.clientId)}</code></p>${error}
<form method="post" action="${escapeHtml(options.action)}">
<label>Username <input name="username" autocomplete="username" value="${escapeHtml(options.username ?? '')}" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
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
<p>Sign out of the local OIDC provider?</p>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out', '<h1>Signed out</h1>\n<p>You are signed out of the local OIDC provider.</p>');
}

export function errorPage(fields: Record<string, unknown>): string {
  const rows = Object.entries(fields)
    .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`)
    .join('\n');
  return page('Error', `<h1>Error</h1>\n${rows}`);
}
