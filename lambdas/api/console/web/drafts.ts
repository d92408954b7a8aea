/**
 * What the person typed survives a lost session: the values of the console's form fields are kept in memory as they
 * change, written to sessionStorage (this tab only) just before the console sends the person to sign in again, and
 * put back into the same fields when the pages are drawn after the sign-in. Never a secret: no field holds one
 * (a new key is shown in a read-only field that is not kept).
 */
const STORAGE_KEY = 'gatehouse.console.drafts';

type Value = string | boolean;

const live = new Map<string, Value>();
let restored = new Map<string, Value>();

/** Reads (and removes) the drafts a previous page load kept; call once at start. Answers how many there were. */
export function loadDrafts(): number {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  sessionStorage.removeItem(STORAGE_KEY);
  if (!raw) return 0;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return 0;
    restored = new Map(Object.entries(parsed).filter((e): e is [string, Value] => typeof e[1] === 'string' || typeof e[1] === 'boolean'));
  } catch {
    restored = new Map();
  }
  return restored.size;
}

/** Keeps the drafts for the next page load (the console is about to leave for the sign-in). */
export function keepDrafts(): void {
  const entries = [...restored, ...live];
  if (entries.length > 0) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(Object.fromEntries(entries)));
}

/** Forgets the drafts of fields whose key starts with `prefix` (their form was sent). */
export function forgetDrafts(prefix: string): void {
  for (const map of [live, restored]) for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
}

/** Makes a field's value a draft under `key`: restored into it if kept, and kept as it changes. */
export function drafted<T extends HTMLInputElement | HTMLSelectElement>(field: T, key: string): T {
  const checkable = field instanceof HTMLInputElement && (field.type === 'checkbox' || field.type === 'radio');
  const value = restored.get(key);
  if (value !== undefined) {
    restored.delete(key);
    live.set(key, value);
    if (checkable) field.checked = value === true;
    else field.value = String(value);
  }
  const record = () => live.set(key, checkable ? field.checked : field.value);
  field.addEventListener('input', record);
  field.addEventListener('change', record);
  return field;
}
