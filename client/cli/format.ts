/** Plain-text layouts for people (never used for `--json`). */

export const line = (text = ''): string => `${text}\n`;

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

/** `name  value` lines, aligned; pairs without a value are left out. */
export function fields(pairs: readonly (readonly [string, string | undefined])[]): string {
  const present = pairs.filter((p): p is readonly [string, string] => p[1] !== undefined);
  const width = Math.max(...present.map(([k]) => k.length));
  return present.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
}

export function formatTime(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d{3}Z$/, 'Z') : 'never';
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
