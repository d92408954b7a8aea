/**
 * The console's HTML page: a shell that loads one script and one stylesheet by URL (relative to the page, so it works
 * under any stage and base path) and has no inline script, no inline style and no data: everything the person sees
 * is built by the script.
 */
export interface PageFiles {
  readonly script: string;
  readonly style: string;
  readonly icon: string;
}

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Relative URLs resolve against the page's own path: `/prod/console` + `console/app.js` is `/prod/console/app.js`. */
export function consolePage(files: PageFiles): string {
  const href = (name: string) => escape(`console/${name}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Gatehouse console</title>
<link rel="icon" type="image/svg+xml" href="${href(files.icon)}">
<link rel="stylesheet" href="${href(files.style)}">
<script type="module" src="${href(files.script)}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<div id="app"><main id="main" tabindex="-1"><p>Loading the console…</p></main></div>
<noscript><p>The Gatehouse console needs JavaScript.</p></noscript>
</body>
</html>
`;
}

/** The console's icon: a gate. */
export const CONSOLE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#1d4ed8"/><path d="M8 26V12l8-6 8 6v14h-5v-8h-6v8z" fill="#fff"/></svg>`;
