// oidc-provider 9 ships no type declarations and @types/oidc-provider lags the major version, so this
// declares only the slice of its API that local/oidc uses. Widen it here when more is needed.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type AdapterPayload = Record<string, unknown> & { grantId?: string; uid?: string; userCode?: string };

  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  export interface Client {
    clientId: string;
    /** The registered `client_name`, when there is one. */
    clientName?: string;
  }

  export interface ClientStatic {
    find(id: string): Promise<Client | undefined>;
  }

  export interface Params {
    grant_type?: string;
    scope?: string;
    resource?: string | string[];
    [key: string]: unknown;
  }

  export interface Session {
    accountId?: string;
    grantIdFor(clientId: string): string | undefined;
  }

  export interface OIDCContext {
    provider: Provider;
    params?: Params;
    client?: Client;
    session?: Session;
    result?: { consent?: { grantId?: string } };
  }

  export interface KoaContextWithOIDC {
    oidc: OIDCContext;
    type: string;
    body: unknown;
    status: number;
    /** Koa's: sets response headers. */
    set(headers: Readonly<Record<string, string>>): void;
  }

  /** What `extraTokenClaims` receives: an AccessToken (people) or ClientCredentials (machines). */
  export interface IssuedToken {
    kind: string;
    accountId?: string;
    clientId: string;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<Record<string, unknown>> | Record<string, unknown>;
  }

  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenTTL?: number;
    accessTokenFormat?: 'opaque' | 'jwt';
    jwt?: { sign?: { alg?: string } };
  }

  export interface PromptDetails {
    missingOIDCScope?: string[];
    missingResourceScopes?: Record<string, string[]>;
  }

  export interface Interaction {
    uid: string;
    params: Params;
    prompt: { name: string; reasons: string[]; details: PromptDetails };
    grantId?: string;
    session?: { accountId?: string };
  }

  export interface InteractionResults {
    login?: { accountId: string };
    consent?: { grantId: string };
    [key: string]: unknown;
  }

  export class Grant {
    constructor(properties: { clientId: string; accountId: string });
    static find(id: string): Promise<Grant | undefined>;
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export class OIDCProviderError extends Error {
    status: number;
    error: string;
    error_description?: string;
  }

  export const errors: {
    InvalidTarget: new (description?: string) => OIDCProviderError;
  };

  export type Configuration = Record<string, unknown>;

  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Grant: typeof Grant;
    readonly Client: ClientStatic;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: 'server_error', listener: (ctx: unknown, error: Error) => void): this;
    urlFor(name: string): string;
  }
  export { Provider };
}
