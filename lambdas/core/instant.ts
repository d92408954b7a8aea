/**
 * Instants as Gatehouse stores them: the canonical UTC form `YYYY-MM-DDTHH:mm:ss.sssZ` with a four-digit year
 * (`toISOString()` of a time within years 0–9999). Stores compare and sort instants as strings, in keys and in
 * conditions; `+010000-…` (past year 9999) or `-000001-…` would sort out of time order, so nothing else is stored.
 */

/** The canonical form, as a pattern (no anchors), for patterns that embed an instant. */
export const CANONICAL_INSTANT_PATTERN = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z`;
const CANONICAL_INSTANT = new RegExp(`^${CANONICAL_INSTANT_PATTERN}$`);

/** The range of instants a client may send (both ends canonical). */
export const EARLIEST_INSTANT = '1970-01-01T00:00:00.000Z';
export const LATEST_INSTANT = '9999-12-31T23:59:59.999Z';
export const EARLIEST_INSTANT_MS = Date.parse(EARLIEST_INSTANT);
export const LATEST_INSTANT_MS = Date.parse(LATEST_INSTANT);

export function isCanonicalInstant(value: string): boolean {
  return CANONICAL_INSTANT.test(value);
}

/** The canonical form of `ms`, or undefined when it has none (not a time, or outside years 0–9999). */
export function canonicalInstant(ms: number): string | undefined {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return undefined;
  const iso = new Date(ms).toISOString();
  return isCanonicalInstant(iso) ? iso : undefined;
}
