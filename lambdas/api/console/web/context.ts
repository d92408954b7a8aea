/** What every page is drawn from. */
import type { ConsoleConfig } from '../config.js';
import type { Api } from './api.js';
import type { Claims } from './auth.js';
import type { Whoami } from './types.js';

export interface PageContext {
  readonly config: ConsoleConfig;
  readonly api: Api;
  /** Who the API says the person is (GET /v1/whoami). */
  readonly whoami: Whoami;
  /** What the sign-in says about them (the ID token): name and groups, for display. */
  readonly claims: Claims | undefined;
  /** A member of `admins` (cross-tenant audit reads). The API decides; the console only offers the choice. */
  readonly admin: boolean;
}
