/**
 * Maps keyed by client input — header names, query parameter names, path parameter names — are objects without a
 * prototype. A name such as `constructor`, `toString` or `__proto__` is then only ever an own key: never an
 * inherited member that a lookup finds (`map.constructor ??= []` would be the Object function), nor the prototype
 * setter that an assignment calls (`map.__proto__ = 'x'` would silently drop the value).
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
