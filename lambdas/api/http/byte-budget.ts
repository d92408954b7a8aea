/**
 * Byte budgets for response bodies: a list page stops adding entries before its body could push the Lambda
 * response over the synchronous invoke limit.
 *
 * Lambda refuses a synchronous response over 6 MB, and it counts the *invoke payload*: the proxy result serialised
 * as JSON, in which the body travels as a JSON string. Every `"` and `\` of the body is escaped once more there, so
 * a body can take up to twice its own size (control characters, already `\u00XX` in the body, grow by one byte).
 * Budgets are therefore counted in {@link payloadBytes}, never in the body's plain length.
 *
 * Escaping works character by character, so the payload size of a JSON array is the sum of its elements' sizes
 * plus the separators: a page can be measured one element at a time.
 */

/** Lambda's documented synchronous response limit (6 MB), for reference in checks and tests. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * What one response body may take in the invoke payload: 5 MiB. The remaining ~1 MiB is margin for the headers and
 * the proxy result's own fields (a few KiB), for the page envelope, and for any doubt about whether "6 MB" means
 * 6,000,000 or 6,291,456 bytes: both leave more than 700 KiB unused.
 */
export const RESPONSE_BYTE_BUDGET = 5 * 1024 * 1024;

/** Room kept for a list page's envelope: `{"items":[`, `],"nextToken":"…"}` and the like, escaped. */
export const PAGE_ENVELOPE_ALLOWANCE = 4 * 1024;

/** Bytes `text` (a response body or part of one) takes inside the Lambda invoke payload, where it is a JSON string. */
export function payloadBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2; // minus the string's own quotes
}

/** Bytes `value`, serialised as JSON, takes inside the invoke payload. */
export function jsonPayloadBytes(value: unknown): number {
  return payloadBytes(JSON.stringify(value) ?? 'null');
}

/**
 * Counts the elements of one JSON array body against a budget. `tryAdd` accepts an element only if it still fits;
 * once one is refused, the page ends there and the next page starts with that element.
 */
export class ByteBudget {
  private usedBytes: number;

  constructor(
    private readonly limitBytes: number = RESPONSE_BYTE_BUDGET,
    reservedBytes: number = PAGE_ENVELOPE_ALLOWANCE,
  ) {
    if (reservedBytes >= limitBytes) throw new Error('ByteBudget: the reserve leaves no room');
    this.usedBytes = reservedBytes;
  }

  /** Bytes counted so far, the reserve included. */
  get used(): number {
    return this.usedBytes;
  }

  /** True (and counted) if `value` fits as one more array element, its separator included; false otherwise. */
  tryAdd(value: unknown): boolean {
    const cost = jsonPayloadBytes(value) + 1; // the comma before it
    if (this.usedBytes + cost > this.limitBytes) return false;
    this.usedBytes += cost;
    return true;
  }
}

/**
 * The longest prefix of `values` whose views fit one budget, and whether that was all of them. Throws if not even
 * the first fits: an empty page with a token pointing at the same place would never make progress, so an entry
 * that can exceed the budget on its own is a bug in how its size is bounded on write.
 */
export function takeWithinBudget<T>(values: readonly T[], view: (value: T) => unknown = (v) => v, budget = new ByteBudget()): { taken: T[]; complete: boolean } {
  const taken: T[] = [];
  for (const value of values) {
    if (!budget.tryAdd(view(value))) {
      if (taken.length === 0) throw new Error('A single entry exceeds the response byte budget');
      return { taken, complete: false };
    }
    taken.push(value);
  }
  return { taken, complete: true };
}
