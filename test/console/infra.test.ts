/**
 * Issue 14, the browser console in the CDK app: its own app client on the user pool (created with the API, so the
 * Identity stack never depends on the Api stack), registered with exactly the console's URL; the authorizer accepting
 * its tokens; and the console function carrying its files in its code and its sign-in settings in its environment.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_ASSETS_ENV } from '../../lambdas/api/console/assets.js';
import { CONSOLE_SIGN_IN_ENV } from '../../lambdas/api/console/sign-in.js';
import { OPENAPI_DOCUMENT_ENV } from '../../lambdas/api/openapi/operations.js';
import { resourcesOf, synthGatehouse, type SynthResult } from '../infra/synth.js';
import { idOf, json, props } from '../infra/template.js';

process.env.CDK_VALIDATION = 'false';

let synth: SynthResult;
beforeAll(() => {
  synth = synthGatehouse();
});

const clientsOf = (key: 'identity' | 'api') => Object.values(resourcesOf(synth.templates[key], 'AWS::Cognito::UserPoolClient')).map(props);
const envOf = (fn: { node: { defaultChild?: unknown } }) =>
  (props(resourcesOf(synth.templates.api, 'AWS::Lambda::Function')[idOf(fn as never)]!).Environment as { Variables: Record<string, unknown> }).Variables;

describe('the console in the CDK app', () => {
  it('registers its own public app client on the pool, in the Api stack: code + PKCE, no secret, the console URL as its only callback and sign-out URL', () => {
    const [client, ...others] = clientsOf('api');
    expect(others).toEqual([]);
    expect(client).toMatchObject({
      ClientName: 'gatehouse-console',
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      SupportedIdentityProviders: ['COGNITO'],
      EnableTokenRevocation: true,
    });
    const url = json(synth.stacks.api.resolve(synth.stacks.api.gatehouse.consoleUrl));
    // https://<rest api id>.execute-api.<region>.<suffix>/prod/console, from the REST API's id and the stage's name.
    expect(url).toContain(idOf(synth.stacks.api.api));
    expect(url).toContain('/prod/console');
    expect(json(client!.CallbackURLs)).toBe(`[${url}]`);
    expect(json(client!.LogoutURLs)).toBe(`[${url}]`);
    // People's scopes only (what the groups grant), plus the OpenID ones for the ID token.
    expect((client!.AllowedOAuthScopes as string[]).sort()).toEqual(
      ['openid', 'email', 'profile', ...synth.stacks.app.api.scopes.forGroups(synth.stacks.app.api.scopes.groups).map((s) => `gatehouse/${s}`)].sort(),
    );
    // A managed-login style for it, as for the people client (managed login v2 refuses a client without one).
    expect(json(Object.values(resourcesOf(synth.templates.api, 'AWS::Cognito::ManagedLoginBranding')).map(props))).toContain(idOf(synth.stacks.api.gatehouse.consoleClient!));
  });

  it('leaves the Identity stack as it was: the people client does not name the console (no Identity → Api dependency)', () => {
    const clients = clientsOf('identity');
    expect(clients.map((c) => c.ClientName).sort()).toEqual(['gatehouse-machine', 'gatehouse-people']);
    expect(json(clients)).not.toContain('console');
    expect(synth.stacks.identity.dependencies.map((s) => s.stackName)).not.toContain(synth.stacks.api.stackName);
  });

  it("the authorizer accepts the console client's tokens, beside the people and machine clients", () => {
    const cognito = json(envOf(synth.stacks.api.authorizerFunction.fn).GATEHOUSE_COGNITO);
    expect(cognito).toMatch(/PeopleClient[\s\S]*MachineClient/);
    expect(cognito).toContain(idOf(synth.stacks.api.gatehouse.consoleClient!));
  });

  it('the console function has its sign-in settings in its environment (the managed-login endpoints, its client) and its files in its code', () => {
    const consoleFn = synth.stacks.api.handlers.console!;
    const signIn = json(envOf(consoleFn.fn)[CONSOLE_SIGN_IN_ENV]);
    for (const part of ['"kind\\":\\"cognito', '/oauth2/authorize', '/oauth2/token', '/logout', 'amazoncognito.com', 'gatehouse/keys:write', idOf(synth.stacks.api.gatehouse.consoleClient!)]) {
      expect(signIn).toContain(part);
    }
    expect(Object.keys(consoleFn.define)).toEqual(expect.arrayContaining([`process.env.${CONSOLE_ASSETS_ENV}`]));
    expect(synth.stacks.api.gatehouse.bundles.console).toHaveProperty(CONSOLE_ASSETS_ENV);
    // Each group's bundle values go into its own function only.
    for (const [name, fn] of Object.entries(synth.stacks.api.handlers)) {
      expect(`process.env.${CONSOLE_ASSETS_ENV}` in fn.define, name).toBe(name === 'console');
      expect(`process.env.${OPENAPI_DOCUMENT_ENV}` in fn.define, name).toBe(name === 'openapi');
    }
  });

  it('outputs the console URL and its client id', () => {
    const outputs = Object.keys(synth.templates.api.toJSON().Outputs as object);
    expect(outputs).toEqual(expect.arrayContaining(['ConsoleUrl', 'ConsoleClientId']));
  });
});
