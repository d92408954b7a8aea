/** The API's response shapes, from the very zod schemas the handlers answer with (types only: nothing is bundled). */
import type { z } from 'zod';
import type { auditListResponseSchema } from '../../audit/schemas.js';
import type { createdKeyView, keyView } from '../../keys/schemas.js';
import type { usageResponseSchema } from '../../usage/schemas.js';
import type { whoamiView } from '../../whoami/schemas.js';

export type Whoami = z.output<typeof whoamiView>;
export type KeyView = z.output<typeof keyView>;
export type CreatedKey = z.output<typeof createdKeyView>;
export interface KeyList {
  readonly keys: readonly KeyView[];
  readonly nextToken?: string;
}
export type UsageList = z.output<typeof usageResponseSchema>;
export type AuditList = z.output<typeof auditListResponseSchema>;
export type AuditEvent = AuditList['events'][number];
