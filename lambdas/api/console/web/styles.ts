/**
 * The console's stylesheet, served as its own file (the Content-Security-Policy allows no inline style). Kept as a
 * module so the installed package carries it like any other source (tsc copies no .css files).
 */
export const CONSOLE_CSS = `
:root {
  color-scheme: light;
  --bg: #f6f7f9; --panel: #fff; --text: #111827; --muted: #5b6472; --line: #e3e6eb; --accent: #1d4ed8;
  --accent-ink: #fff; --danger: #b42318; --danger-bg: #fef3f2; --ok: #067647; --ok-bg: #ecfdf3; --warn: #93370d;
  --warn-bg: #fffaeb; --focus: #f59e0b; --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.5; color: var(--text); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; min-width: 0; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--panel); padding: 8px 12px; z-index: 10; }
.skip:focus { left: 8px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

header.bar { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 20px; padding: 10px 24px; background: #0f172a; color: #e5e7eb; }
header.bar .brand { font-weight: 700; letter-spacing: 0.01em; color: #fff; margin-right: 8px; display: flex; align-items: center; gap: 8px; }
header.bar .brand img { width: 22px; height: 22px; }
header.bar nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: 4px; margin: 0; padding: 0; }
header.bar nav a { color: #cbd5e1; text-decoration: none; padding: 6px 10px; border-radius: 6px; display: inline-block; }
header.bar nav a:hover { background: #1e293b; color: #fff; }
header.bar nav a[aria-current="page"] { background: #1e293b; color: #fff; font-weight: 600; }
header.bar .who { margin-left: auto; display: flex; align-items: center; gap: 10px; font-size: 0.9em; }
header.bar .who button { background: transparent; color: #e5e7eb; border-color: #475569; }

main { max-width: 1120px; margin: 0 auto; padding: 24px; }
main:focus { outline: none; }
h1 { font-size: 1.6rem; margin: 0 0 4px; }
h2 { font-size: 1.15rem; margin: 0 0 12px; }
.lead { color: var(--muted); margin: 0 0 20px; }
section.panel, .panel { background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius); padding: 20px; margin: 0 0 20px; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }

form .row { display: flex; flex-wrap: wrap; gap: 12px 16px; align-items: flex-end; }
label { display: block; font-weight: 600; font-size: 0.9em; }
label .hint, .hint { display: block; font-weight: 400; color: var(--muted); font-size: 0.88em; }
input[type="text"], input[type="number"], input[type="datetime-local"], input[type="search"], select, input.secret-value {
  display: block; margin-top: 4px; padding: 8px 10px; border: 1px solid #c9ced6; border-radius: 8px; font: inherit; background: #fff; color: inherit; min-width: 0; width: 100%;
}
.field { flex: 1 1 220px; min-width: 0; }
.field.narrow { flex: 0 1 180px; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 12px 0; padding: 8px 12px 12px; min-width: 0; }
legend { font-weight: 600; font-size: 0.9em; padding: 0 4px; }
.checks { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 6px 16px; }
.checks label { font-weight: 400; display: flex; gap: 8px; align-items: flex-start; }
.checks input { margin-top: 4px; }
button { font: inherit; padding: 8px 14px; border-radius: 8px; border: 1px solid #c9ced6; background: #fff; color: var(--text); cursor: pointer; }
button:hover { background: #f2f4f7; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); font-weight: 600; }
button.primary:hover { background: #1e40af; }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; font-weight: 600; }
button.small { padding: 4px 10px; font-size: 0.88em; }
button:disabled { opacity: 0.6; cursor: not-allowed; }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 14px; }
td .actions { margin-top: 0; flex-wrap: nowrap; }
.prefix, td time { white-space: nowrap; }

.alert { border-radius: 8px; padding: 12px 14px; margin: 12px 0; border: 1px solid; }
.alert p { margin: 4px 0; }
.alert.error { background: var(--danger-bg); border-color: #fecdca; color: #7a271a; }
.alert.info { background: #eff8ff; border-color: #b2ddff; color: #194185; }
.alert.warning { background: var(--warn-bg); border-color: #fedf89; color: var(--warn); }
.alert.success { background: var(--ok-bg); border-color: #abefc6; color: #05603a; }
.request-id { font-size: 0.88em; }

.secret { border: 2px solid #fedf89; background: var(--warn-bg); }
.secret .copy-row { display: flex; gap: 8px; align-items: flex-end; flex-wrap: wrap; }
.secret .copy-row label { flex: 1 1 320px; min-width: 0; }
input.secret-value { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }

.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 0.93em; }
th, td { text-align: left; padding: 9px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.8em; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.82em; font-weight: 600; border: 1px solid transparent; }
.badge.active { background: var(--ok-bg); color: var(--ok); border-color: #abefc6; }
.badge.revoked { background: var(--danger-bg); color: var(--danger); border-color: #fecdca; }
.badge.expired { background: #f2f4f7; color: #344054; border-color: #d0d5dd; }
.badge.grace { background: var(--warn-bg); color: var(--warn); border-color: #fedf89; }
.scopes { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.scopes li { background: #eef2ff; color: #3538cd; border-radius: 6px; padding: 0 6px; font-size: 0.85em; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 8px 20px; margin: 0; }
dl.facts dt { color: var(--muted); font-weight: 600; }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.muted { color: var(--muted); }
.details { list-style: none; margin: 0; padding: 0; font-size: 0.88em; }
.details li { overflow-wrap: anywhere; }

figure.chart { margin: 0 0 16px; }
figure.chart svg { width: 100%; max-width: 760px; height: auto; display: block; }
figure.chart .bar { fill: var(--accent); }
figure.chart .label, figure.chart .value { font-size: 12px; fill: var(--text); }
figure.chart .value { fill: var(--muted); }
figure.chart figcaption { color: var(--muted); font-size: 0.88em; margin-top: 6px; }

.landing { max-width: 520px; margin: 10vh auto; text-align: center; }
.landing .panel { text-align: left; }

@media (max-width: 720px) {
  header.bar { padding: 10px 14px; }
  header.bar .who { margin-left: 0; width: 100%; justify-content: space-between; }
  main { padding: 14px; }
  dl.facts { grid-template-columns: 1fr; gap: 2px; }
  dl.facts dd { margin-bottom: 8px; }
  table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack tr { border: 1px solid var(--line); border-radius: 8px; margin-bottom: 10px; padding: 6px 0; }
  table.stack td { border: 0; padding: 4px 12px; display: grid; grid-template-columns: 110px 1fr; gap: 8px; }
  table.stack td::before { content: attr(data-label); color: var(--muted); font-weight: 600; font-size: 0.85em; }
  table.stack td.num { text-align: left; }
}
`;
