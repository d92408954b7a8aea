/**
 * Audit events: what happened, to which tenant, by whom — never a credential. The store (audit-store.ts) keeps
 * them in DynamoDB with a TTL; this module is the vocabulary both writers and readers share.
 */
export const AUDIT_EVENT_TYPES = [
  'key.created',
  'key.rotated',
  'key.revoked',
  'key.plan_changed',
  'credential.refused',
  'auth.anonymous',
  'mode.changed',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** Tenant under which events with no known tenant are kept (refused credentials that name no key): admins only. */
export const SYSTEM_TENANT = '_system';

export interface AuditEventInput {
  readonly type: AuditEventType;
  readonly tenant: string;
  /** principalId of whoever acted (absent for refused credentials). */
  readonly actor?: string;
  readonly keyId?: string;
  readonly reason?: string;
  readonly sourceIp?: string;
  /** Small scalar facts (e.g. gracePeriodSeconds, method, path, count). Never a secret. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  /** ISO time; defaults to now. */
  readonly at?: string;
}

export interface AuditEvent extends AuditEventInput {
  readonly id: string;
  readonly at: string;
}

export interface AuditSink {
  record(event: AuditEventInput): Promise<AuditEvent>;
}
