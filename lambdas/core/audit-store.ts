/**
 * Audit events on DynamoDB (single-table design, see README "Data model").
 *
 * Event item: `pk = TENANT#<tenant>#AUDIT`, `sk = <at>#<id>`, so one tenant's events in a time range are one
 * Query (`sk BETWEEN`), newest first. `gsi1pk = AUDIT#<yyyy-mm-dd>` (UTC day of `at`), `gsi1sk = <at>#<id>` serve
 * administrators' cross-tenant reads: one Query per day bucket, newest day first. `ttl` = epoch seconds of
 * `at` + the retention period, so DynamoDB deletes old events by itself.
 *
 * `id` is a ULID (48-bit time + 80 random bits, Crockford base32): unique and sortable by time, so `<at>#<id>`
 * orders events by time and never collides. Every event passes through {@link redact} before it is written: the
 * writers never put a credential into an event, and this is the second net if one ever does.
 *
 * Ranges are half-open: `from` inclusive, `to` exclusive (`<to>#<id>` sorts after `<to>`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { QueryCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AUDIT_EVENT_TYPES, type AuditEvent, type AuditEventInput, type AuditEventType, type AuditSink } from './audit.js';
import { DependencyError, ValidationError } from './errors.js';
import { CANONICAL_INSTANT_PATTERN, canonicalInstant } from './instant.js';
import { redact } from './redact.js';
import { GSI1, TTL_ATTRIBUTE } from './table.js';

export const auditPk = (tenant: string): string => `TENANT#${tenant}#AUDIT`;
export const auditDayPk = (day: string): string => `AUDIT#${day}`;

const DAY_MS = 86_400_000;
/** Longest window one query may cover. */
export const MAX_AUDIT_RANGE_DAYS = 31;
/** Window used when the caller gives neither `from` nor `to`. */
export const DEFAULT_AUDIT_RANGE_MS = DAY_MS;
/** DynamoDB calls one `query` may make (by default) before it answers a possibly short page with a nextToken. */
export const MAX_READS_PER_QUERY = 40;
/** Attributes that are storage mechanics, not part of the event. */
const STORAGE_ATTRIBUTES = ['pk', 'sk', GSI1.partitionKey, GSI1.sortKey, TTL_ATTRIBUTE, 'entity'] as const;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID for `atMs`: 10 characters of time, 16 of randomness. */
export function newEventId(atMs: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(atMs));
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = randomBytes(10);
  let bits = 0;
  let value = 0;
  let rand = '';
  for (const byte of random) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      rand += CROCKFORD[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return time + rand;
}

/**
 * Keys and windows are compared as strings, so only canonical instants (instant.ts) are keyed by: before request
 * instants were bounded, a `+010000-…` window made DynamoDB refuse the query (a 503).
 */
const SK_SHAPE = new RegExp(`^${CANONICAL_INSTANT_PATTERN}#[0-9A-HJKMNP-TV-Z]{26}$`);
const DAY_SHAPE = /^\d{4}-\d{2}-\d{2}$/;

export interface AuditStoreOptions {
  readonly retentionDays: number;
  readonly now?: () => number;
  /** Bound on DynamoDB calls per `query` (a sparse type filter over a long window); default {@link MAX_READS_PER_QUERY}. */
  readonly maxReadsPerQuery?: number;
}

export interface AuditQuery {
  /** The tenant whose events to read; `undefined` = every tenant (administrators only: the caller decides). */
  readonly tenant?: string;
  /** ISO 8601, inclusive. Default: `to` − 24 h. */
  readonly from?: string;
  /** ISO 8601, exclusive. Default: now. */
  readonly to?: string;
  /** Only these types; absent or empty = all. */
  readonly types?: readonly AuditEventType[];
  /** 1–100. */
  readonly limit: number;
  /** From a previous page of the same query. Its window and type filter carry over; any given here must match. */
  readonly nextToken?: string;
}

export interface AuditPage {
  readonly events: AuditEvent[];
  readonly nextToken?: string;
}

/** Where a page ended: strictly older than `sk` (in tenant `tn`'s partition for cross-tenant reads), or day `d` from its newest. */
interface Position {
  readonly sk?: string;
  readonly tn?: string;
  readonly d?: string;
}

interface TokenBody {
  readonly v: 1;
  /** Hash of the scope (tenant or all): a token never pages into another scope. */
  readonly s: string;
  readonly f: string;
  readonly t: string;
  readonly y: readonly AuditEventType[];
  readonly p: Position;
}

const utcDay = (iso: string): string => iso.slice(0, 10);

function scopeHash(tenant: string | undefined): string {
  return createHash('sha256')
    .update(tenant === undefined ? 'all' : `tenant:${tenant}`)
    .digest('base64url')
    .slice(0, 22);
}

function invalidToken(): ValidationError {
  return new ValidationError('Invalid query string: nextToken.', [
    { field: 'nextToken', message: 'not a token from a previous page of this same query' },
  ]);
}

function toIso(value: string, field: string): string {
  const iso = canonicalInstant(Date.parse(value));
  if (iso === undefined) throw new ValidationError(`Invalid query string: ${field}.`, [{ field, message: 'not an ISO 8601 time within years 0000–9999' }]);
  return iso;
}

/** Why a window of canonical instants is unusable: from not before to, or longer than the limit. */
function windowProblem(from: string, to: string): 'order' | 'span' | undefined {
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (fromMs >= toMs) return 'order';
  if (toMs - fromMs > MAX_AUDIT_RANGE_DAYS * DAY_MS) return 'span';
  return undefined;
}

function toEvent(item: Record<string, unknown>): AuditEvent {
  const copy: Record<string, unknown> = { ...item };
  for (const attr of STORAGE_ATTRIBUTES) delete copy[attr];
  return copy as unknown as AuditEvent;
}

function tenantFromPk(pk: unknown): string | undefined {
  if (typeof pk !== 'string' || !pk.startsWith('TENANT#') || !pk.endsWith('#AUDIT')) return undefined;
  return pk.slice('TENANT#'.length, -'#AUDIT'.length);
}

export class AuditStore implements AuditSink {
  private readonly now: () => number;
  private readonly retentionSeconds: number;
  private readonly maxReads: number;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: AuditStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.retentionSeconds = options.retentionDays * 86_400;
    this.maxReads = Math.max(1, options.maxReadsPerQuery ?? MAX_READS_PER_QUERY);
  }

  async record(input: AuditEventInput): Promise<AuditEvent> {
    const atMs = input.at === undefined ? this.now() : Date.parse(input.at);
    const at = canonicalInstant(atMs);
    // Writers pass our own clock or ISO times they made; an event no window could ever find is a bug, not data.
    if (at === undefined) throw new Error(`audit event time is not an ISO 8601 instant within years 0000–9999: ${input.at}`);
    const id = newEventId(atMs);
    // Second net: whatever a writer put in, no credential-shaped text is stored. Type, tenant and time are ours.
    const { type, tenant: _tenant, at: _at, ...rest } = input;
    const event: AuditEvent = { ...redact(rest), id, type, tenant: input.tenant, at };
    const sk = `${at}#${id}`;
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: auditPk(event.tenant),
            sk,
            entity: 'audit',
            [GSI1.partitionKey]: auditDayPk(utcDay(at)),
            [GSI1.sortKey]: sk,
            [TTL_ATTRIBUTE]: Math.floor(atMs / 1000) + this.retentionSeconds,
            ...event,
          },
        }),
      );
    } catch (error) {
      throw new DependencyError('audit-store', error);
    }
    return event;
  }

  /**
   * Replaces the details of an event written earlier (the refusal recorder sets the final `count` of a collapsed
   * burst this way). Answers false when the event no longer exists.
   */
  async updateDetails(event: Pick<AuditEvent, 'tenant' | 'at' | 'id'>, details: NonNullable<AuditEventInput['details']>): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: auditPk(event.tenant), sk: `${event.at}#${event.id}` },
          UpdateExpression: 'SET details = :d',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':d': redact(details) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw new DependencyError('audit-store', error);
    }
  }

  /** Events newest first. Window and filter problems are ValidationErrors naming the query field. */
  async query(query: AuditQuery): Promise<AuditPage> {
    const scope = scopeHash(query.tenant);
    let from: string;
    let to: string;
    let types: readonly AuditEventType[];
    let position: Position;

    const askedTypes = [...new Set(query.types ?? [])].sort();
    if (query.nextToken !== undefined) {
      const token = this.decodeToken(query.nextToken);
      if (token.s !== scope) throw invalidToken();
      // The window and filter belong to the token (the default window would otherwise move between pages).
      if (query.from !== undefined && toIso(query.from, 'from') !== token.f) throw invalidToken();
      if (query.to !== undefined && toIso(query.to, 'to') !== token.t) throw invalidToken();
      if (query.types !== undefined && query.types.length > 0 && askedTypes.join(',') !== token.y.join(',')) throw invalidToken();
      ({ f: from, t: to, y: types, p: position } = token);
      this.checkPosition(position, from, to, query.tenant === undefined);
    } else {
      ({ from, to } = this.resolveWindow(query.from, query.to));
      types = askedTypes;
      position = query.tenant === undefined ? { d: utcDay(new Date(Date.parse(to) - 1).toISOString()) } : {};
    }
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > 100) {
      throw new ValidationError('Invalid query string: limit.', [{ field: 'limit', message: 'an integer from 1 to 100' }]);
    }

    const page =
      query.tenant === undefined
        ? await this.readAllTenants(from, to, types, query.limit, position)
        : await this.readTenant(query.tenant, from, to, types, query.limit, position);
    if (!page.next) return { events: page.events };
    const body: TokenBody = { v: 1, s: scope, f: from, t: to, y: types, p: page.next };
    return { events: page.events, nextToken: Buffer.from(JSON.stringify(body)).toString('base64url') };
  }

  /** Applies the defaults (to = now, from = to − 24 h) and checks from < to and the 31-day limit. */
  resolveWindow(fromInput: string | undefined, toInput: string | undefined): { from: string; to: string } {
    const to = toIso(toInput === undefined ? new Date(this.now()).toISOString() : toInput, 'to');
    const toMs = Date.parse(to);
    const from = fromInput === undefined ? canonicalInstant(toMs - DEFAULT_AUDIT_RANGE_MS) : toIso(fromInput, 'from');
    if (from === undefined) throw new ValidationError('Invalid query string: to.', [{ field: 'to', message: 'too early to look back from' }]);
    const problem = windowProblem(from, to);
    if (problem === 'order') throw new ValidationError('Invalid query string: from.', [{ field: 'from', message: 'must be earlier than to' }]);
    if (problem === 'span') {
      throw new ValidationError('Invalid query string: from, to.', [
        { field: 'from', message: `the range from..to may span at most ${MAX_AUDIT_RANGE_DAYS} days` },
        { field: 'to', message: `the range from..to may span at most ${MAX_AUDIT_RANGE_DAYS} days` },
      ]);
    }
    return { from, to };
  }

  private decodeToken(raw: string): TokenBody {
    let parsed: unknown;
    try {
      if (raw.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('shape');
      parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    } catch {
      throw invalidToken();
    }
    const t = parsed as Partial<TokenBody> | null;
    const isIso = (v: unknown): v is string => typeof v === 'string' && canonicalInstant(Date.parse(v)) === v;
    if (
      !t ||
      typeof t !== 'object' ||
      t.v !== 1 ||
      typeof t.s !== 'string' ||
      !isIso(t.f) ||
      !isIso(t.t) ||
      // A token carries only windows this API would have resolved: a forged one cannot widen or invert it.
      windowProblem(t.f, t.t) !== undefined ||
      !Array.isArray(t.y) ||
      !t.y.every((y) => (AUDIT_EVENT_TYPES as readonly unknown[]).includes(y)) ||
      !t.p ||
      typeof t.p !== 'object'
    ) {
      throw invalidToken();
    }
    const p = t.p as Record<string, unknown>;
    for (const [k, v] of Object.entries(p)) if (!['sk', 'tn', 'd'].includes(k) || typeof v !== 'string') throw invalidToken();
    return t as TokenBody;
  }

  /** A position must lie inside the token's own window, or DynamoDB would refuse (or answer) outside it. */
  private checkPosition(p: Position, from: string, to: string, allTenants: boolean): void {
    const inWindow = (sk: string) => SK_SHAPE.test(sk) && sk >= from && sk < to;
    if (allTenants) {
      if (p.d === undefined || !DAY_SHAPE.test(p.d) || p.d < utcDay(from) || p.d > utcDay(to)) throw invalidToken();
      if ((p.sk === undefined) !== (p.tn === undefined)) throw invalidToken();
      if (p.sk !== undefined && (!inWindow(p.sk) || utcDay(p.sk) !== p.d)) throw invalidToken();
    } else if (p.d !== undefined || p.tn !== undefined || p.sk === undefined || !inWindow(p.sk)) {
      throw invalidToken();
    }
  }

  private baseInput(types: readonly AuditEventType[]): Partial<QueryCommandInput> {
    if (types.length === 0) return {};
    return {
      FilterExpression: `#type IN (${types.map((_, i) => `:type${i}`).join(', ')})`,
      ExpressionAttributeNames: { '#type': 'type' },
      ExpressionAttributeValues: Object.fromEntries(types.map((t, i) => [`:type${i}`, t])),
    };
  }

  private async send(input: QueryCommandInput) {
    try {
      return await this.doc.send(new QueryCommand(input));
    } catch (error) {
      throw new DependencyError('audit-store', error);
    }
  }

  /** Reads up to limit + 1 matching items (the extra one only tells whether another page exists). */
  private readBudget(collected: number, limit: number, filtered: boolean): number {
    const wanted = limit + 1 - collected;
    return filtered ? Math.max(wanted, 100) : wanted;
  }

  private async readTenant(
    tenant: string,
    from: string,
    to: string,
    types: readonly AuditEventType[],
    limit: number,
    start: Position,
  ): Promise<{ events: AuditEvent[]; next?: Position }> {
    const base = this.baseInput(types);
    const items: Record<string, unknown>[] = [];
    let exclusiveStart: Record<string, unknown> | undefined = start.sk === undefined ? undefined : { pk: auditPk(tenant), sk: start.sk };
    for (let reads = 0; reads < this.maxReads; reads++) {
      const out = await this.send({
        ...base,
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':pk': auditPk(tenant), ':from': from, ':to': to },
        ScanIndexForward: false,
        Limit: this.readBudget(items.length, limit, types.length > 0),
        ...(exclusiveStart ? { ExclusiveStartKey: exclusiveStart } : {}),
      });
      for (const item of out.Items ?? []) {
        items.push(item);
        if (items.length > limit) {
          const last = items[limit - 1]!;
          return { events: items.slice(0, limit).map(toEvent), next: { sk: String(last.sk) } };
        }
      }
      if (!out.LastEvaluatedKey) return { events: items.map(toEvent) };
      exclusiveStart = out.LastEvaluatedKey;
    }
    // Read budget spent (a sparse filter over a long window): a short page that resumes where reading stopped.
    return { events: items.map(toEvent), next: { sk: String(exclusiveStart?.sk) } };
  }

  private async readAllTenants(
    from: string,
    to: string,
    types: readonly AuditEventType[],
    limit: number,
    start: Position,
  ): Promise<{ events: AuditEvent[]; next?: Position }> {
    const base = this.baseInput(types);
    const items: Record<string, unknown>[] = [];
    const firstDay = utcDay(from);
    let day = start.d!;
    let exclusiveStart: Record<string, unknown> | undefined =
      start.sk === undefined
        ? undefined
        : { pk: auditPk(start.tn!), sk: start.sk, [GSI1.partitionKey]: auditDayPk(day), [GSI1.sortKey]: start.sk };
    for (let reads = 0; reads < this.maxReads; reads++) {
      const out = await this.send({
        ...base,
        TableName: this.tableName,
        IndexName: GSI1.name,
        KeyConditionExpression: `${GSI1.partitionKey} = :day AND ${GSI1.sortKey} BETWEEN :from AND :to`,
        ExpressionAttributeValues: { ...base.ExpressionAttributeValues, ':day': auditDayPk(day), ':from': from, ':to': to },
        ScanIndexForward: false,
        Limit: this.readBudget(items.length, limit, types.length > 0),
        ...(exclusiveStart ? { ExclusiveStartKey: exclusiveStart } : {}),
      });
      for (const item of out.Items ?? []) {
        items.push(item);
        if (items.length > limit) {
          const last = items[limit - 1]!;
          const sk = String(last.sk);
          return { events: items.slice(0, limit).map(toEvent), next: { d: utcDay(sk), sk, tn: tenantFromPk(last.pk) ?? '' } };
        }
      }
      if (out.LastEvaluatedKey) {
        exclusiveStart = out.LastEvaluatedKey;
        continue;
      }
      if (day <= firstDay) return { events: items.map(toEvent) };
      day = new Date(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS).toISOString().slice(0, 10);
      exclusiveStart = undefined;
    }
    const next: Position = exclusiveStart
      ? { d: day, sk: String(exclusiveStart[GSI1.sortKey]), tn: tenantFromPk(exclusiveStart.pk) ?? '' }
      : { d: day };
    return { events: items.map(toEvent), next };
  }
}
