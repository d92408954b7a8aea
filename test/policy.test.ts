/**
 * The authorizer policy must be exact for every later request that reuses it from API Gateway's cache.
 * The oracle is local/policy-evaluator.ts (independent of the builder) plus a route resolver written
 * here from API Gateway's rule (per segment, a literal beats a `{param}`), so the builder is never
 * checked against its own reasoning.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globOverlapsTemplate, globTemplateWitness, templateMatches, templateToGlob } from '../lambdas/core/arn-glob.js';
import {
  assertRouteTableIsPolicySafe,
  buildPolicy,
  denyAllPolicy,
  parseMethodArn,
  PolicyError,
  routeResourcePattern,
  routeTableConflicts,
} from '../lambdas/core/policy.js';
import { ROUTES, type HttpMethod, type Route } from '../lambdas/routes.js';
import type { Scope } from '../lambdas/core/scopes.js';
import { ALL_SCOPES, GATEHOUSE_API } from '../lambdas/routes.js';
import { evaluatePolicy, iamGlobMatches } from '../local/policy-evaluator.js';

const PREFIX = 'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/';
const arnFor = (method: string, path: string): string => `${PREFIX}${method}${path}`;

// ---------------------------------------------------------------------------------------------------
// Oracle helpers
// ---------------------------------------------------------------------------------------------------

const isParam = (segment: string): boolean => segment.startsWith('{');
const segmentsOf = (path: string): string[] => (path === '/' ? [''] : path.slice(1).split('/'));

function routeMatches(route: Route, method: string, path: string): boolean {
  if (route.method !== method) return false;
  const want = segmentsOf(route.path);
  const got = segmentsOf(path);
  return want.length === got.length && want.every((w, i) => (isParam(w) ? (got[i] ?? '') !== '' : w === got[i]));
}

/** API Gateway's choice among matching routes: at the first segment that differs in kind, the literal wins. */
function resolve(routes: readonly Route[], method: string, path: string): Route | undefined {
  let best: Route | undefined;
  for (const route of routes) {
    if (!routeMatches(route, method, path)) continue;
    if (best === undefined) {
      best = route;
      continue;
    }
    const a = segmentsOf(route.path);
    const b = segmentsOf(best.path);
    const i = a.findIndex((s, k) => isParam(s) !== isParam(b[k] ?? ''));
    if (i === -1) throw new Error(`ambiguous routes ${route.path} and ${best.path}`);
    if (!isParam(a[i] ?? '')) best = route;
  }
  return best;
}

function resolveKey(routes: readonly Route[], key: string): Route | undefined {
  const slash = key.indexOf('/');
  return resolve(routes, key.slice(0, slash), key.slice(slash));
}

function concretePath(route: Route, values: readonly string[]): string {
  let k = 0;
  return route.path.replace(/\{[^}]+\}/g, () => values[k++ % values.length] ?? 'x');
}

const allowedFor = (route: Route, held: ReadonlySet<Scope>): boolean =>
  route.auth === 'token' && (route.scope === undefined || held.has(route.scope));

const scopesOf = (mask: number, universe: readonly Scope[] = ALL_SCOPES): Scope[] => universe.filter((_, i) => (mask & (1 << i)) !== 0);

function token(method: HttpMethod, path: string, scope?: Scope): Route {
  return { method, path, handler: 'items', auth: 'token', ...(scope === undefined ? {} : { scope }), summary: path };
}

function decide(routes: readonly Route[], scopes: readonly Scope[], method: string, path: string, triggerArn = arnFor('GET', '/x')): string {
  const policy = buildPolicy({ principalId: 'p', methodArn: triggerArn, scopes, routes, context: {} });
  return evaluatePolicy(policy.policyDocument, arnFor(method, path));
}

/** Path parameter values that have broken authorizers before: literals of the table, wildcards, regex metacharacters, unicode. */
const paramValue = fc.oneof(
  fc.constantFrom('me', '*', '?', '..', '.', 'rotate', 'keys', 'v1', '{keyId}', 'ü', '🙂', 'a:b', '%2F', '$1', '[a]', '(x)', '\\', 'GET', '.*'),
  fc.string({ unit: fc.constantFrom('.', '*', '?', '+', '(', ')', '[', ']', '^', '$', '|', '\\', 'a', 'Z'), minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).filter((s) => !s.includes('/')),
);

// ---------------------------------------------------------------------------------------------------

describe('iamGlobMatches', () => {
  it.each([
    ['a*', 'a/b/c', true], // star crosses '/'
    ['GET/v1/keys/*', 'GET/v1/keys/k1/rotate', true],
    ['GET/v1/keys/*', 'GET/v1/keys/', true], // star may be empty
    ['GET/v1/keys/*', 'GET/v1/keys', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'axxbyyc', true],
    ['a*b*c', 'acb', false],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['a?c', 'abc', true],
    ['a?c', 'a/c', true], // '?' is any one character, '/' included
    ['a?c', 'ac', false],
    ['a?c', 'abbc', false],
    ['?', '🙂', true], // one code point, not one UTF-16 unit
    ['??', '🙂', false],
    ['a.c', 'abc', false], // '.' is literal, not a regex
    ['a.c', 'a.c', true],
    ['(a|b)', 'a', false],
    ['(a|b)', '(a|b)', true],
    ['[ab]+', '[ab]+', true],
    ['^$\\', '^$\\', true],
    ['x', 'X', false], // case-sensitive
    ['a*', 'a*', true],
    ['a\\*', 'a\\xyz', true], // backslash is not an escape in IAM
    ['*a*a*a*a*a*a*a*b', 'a'.repeat(40), false], // no catastrophic backtracking
  ])('%j vs %j → %s', (pattern, value, expected) => {
    expect(iamGlobMatches(pattern, value)).toBe(expected);
  });

  it('treats regex metacharacters in the value literally', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('.', '+', '(', ')', '[', ']', '^', '$', '|', '\\', '{', '}', 'a') }), (value) => {
        expect(iamGlobMatches(value, value)).toBe(true);
        expect(iamGlobMatches('*', value)).toBe(true);
        expect(iamGlobMatches(`${value}x`, value)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('globOverlapsTemplate', () => {
  it.each([
    ['GET/a/*', 'GET/a/{x}/b', [], true], // star crosses into a deeper route
    ['GET/a/*/b', 'GET/a/{x}', [], false], // a parameter never contains '/'
    ['GET/a/*', 'GET/a/me', [], true],
    ['GET/a/me', 'GET/a/{x}', ['GET/a/me'], false], // /a/me resolves to the literal route
    ['GET/a/*', 'GET/a/{x}', ['GET/a/me'], true], // /a/x still resolves to the param route
    ['GET/a/*/b', 'GET/a/{x}/c/b', [], true],
    ['GET/a/*', 'POST/a/{x}', [], false],
    ['GET/a/?', 'GET/a/{x}', [], true],
    ['GET/a/?', 'GET/a/{x}', ['GET/a/{x}'], false],
    ['GET/a/*', 'GET/a', [], false], // '/a' has no trailing slash
    ['GET/*', 'GET/', [], true], // root
    ['GET/*x', 'GET/{p}/{q}', [], true],
    ['GET/*/*/*', 'GET/{p}/{q}', [], false], // two slashes in the glob, one in the template
    ['*', 'DELETE/v1/{a}/{b}', [], true],
  ] as const)('%s ∩ %s \\ %j → %s', (glob, template, excluded, expected) => {
    expect(globOverlapsTemplate(glob, template, excluded)).toBe(expected);
  });

  it('returns a witness that both sides accept', () => {
    const w = globTemplateWitness('GET/a/*/b', 'GET/a/{x}/c/b');
    expect(w).toBeDefined();
    expect(iamGlobMatches('GET/a/*/b', w ?? '')).toBe(true);
    expect(templateMatches('GET/a/{x}/c/b', w ?? '')).toBe(true);
  });

  it('rejects templates whose braces are not whole segments', () => {
    expect(() => globOverlapsTemplate('*', 'GET/a{x}')).toThrow();
  });

  it('agrees with brute force on small globs and templates (witnesses checked, found instances never missed)', () => {
    const templateArb = fc
      .array(fc.constantFrom('a', 'b', 'ab', '{p}'), { minLength: 1, maxLength: 3 })
      .filter((segments) => segments.filter((s) => s === '{p}').length <= 2)
      .map((segments) => `M/${segments.join('/')}`);
    const globArb = fc.oneof(
      fc.array(fc.constantFrom('a', 'b', '/', '*', '?'), { maxLength: 7 }).map((t) => `M/${t.join('')}`),
      fc.array(fc.constantFrom('a', 'b', '/', '*', '?', 'M'), { maxLength: 7 }).map((t) => t.join('')),
    );
    const values: string[] = [];
    for (const a of ['a', 'b', 'c']) {
      values.push(a);
      for (const b of ['a', 'b', 'c']) {
        values.push(a + b);
        for (const c of ['a', 'b', 'c']) values.push(a + b + c);
      }
    }
    const instances = (template: string): string[] => {
      let out = [''];
      template.split('/').forEach((segment, i) => {
        const options = segment === '{p}' ? values : [segment];
        out = out.flatMap((prefix) => options.map((o) => (i === 0 ? o : `${prefix}/${o}`)));
      });
      return out;
    };
    fc.assert(
      fc.property(globArb, templateArb, fc.array(templateArb, { maxLength: 2 }), (glob, template, excluded) => {
        const witness = globTemplateWitness(glob, template, excluded);
        if (witness !== undefined) {
          expect(iamGlobMatches(glob, witness)).toBe(true);
          expect(templateMatches(template, witness)).toBe(true);
          for (const e of excluded) expect(templateMatches(e, witness)).toBe(false);
        }
        const found = instances(template).some((s) => iamGlobMatches(glob, s) && !excluded.some((e) => templateMatches(e, s)));
        if (found) expect(witness).toBeDefined();
      }),
      { numRuns: 500 },
    );
  });

  it('templateToGlob turns parameters into stars', () => {
    expect(templateToGlob('POST/v1/keys/{keyId}/rotate')).toBe('POST/v1/keys/*/rotate');
  });
});

describe('parseMethodArn', () => {
  it('splits a methodArn', () => {
    expect(parseMethodArn(`${PREFIX}POST/v1/keys/k-1/rotate`)).toEqual({
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '123456789012',
      apiId: 'a1b2c3d4e5',
      stage: 'prod',
      method: 'POST',
      resourcePath: '/v1/keys/k-1/rotate',
    });
    expect(parseMethodArn(`${PREFIX}GET/`).resourcePath).toBe('/');
    expect(parseMethodArn('arn:aws-cn:execute-api:cn-north-1:123456789012:api/dev/GET/a:b').resourcePath).toBe('/a:b');
  });

  it.each([
    '',
    'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod', // no method
    'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET', // no path
    'arn:aws:lambda:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/', // other service
    'arn:aws:execute-api:eu-west-1:123456789012:a1b2*/prod/GET/', // wildcard would widen the policy
    'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/pr?d/GET/',
    'arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/get/',
  ])('rejects %j', (arn) => {
    expect(() => parseMethodArn(arn)).toThrow(PolicyError);
  });
});

describe('buildPolicy', () => {
  const methodArn = `${PREFIX}GET/v1/keys`;

  it('emits one Allow and at most one Deny over the whole stage', () => {
    const result = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'key:1', methodArn, scopes: ['keys:read'], context: { tenantId: 't1', n: 1, b: true } });
    expect(result.principalId).toBe('key:1');
    expect(result.context).toEqual({ tenantId: 't1', n: 1, b: true });
    expect(result.policyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: [`${PREFIX}GET/v1/whoami`, `${PREFIX}GET/v1/keys`, `${PREFIX}GET/v1/keys/*`],
        },
      ],
    });
  });

  it('always allows the scope-less token routes, never public or IAM routes', () => {
    const doc = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn, scopes: [], context: {} }).policyDocument;
    expect(evaluatePolicy(doc, `${PREFIX}GET/v1/whoami`)).toBe('allow');
    expect(evaluatePolicy(doc, `${PREFIX}GET/health`)).toBe('deny');
    expect(evaluatePolicy(doc, `${PREFIX}POST/v1/verify`)).toBe('deny');
    expect(evaluatePolicy(doc, `${PREFIX}GET/v1/keys`)).toBe('deny');
  });

  it('denies the whole stage when nothing is allowed', () => {
    const routes = [token('GET', '/a', 'keys:read')];
    const doc = buildPolicy({ principalId: 'p', methodArn, scopes: [], routes, context: {} }).policyDocument;
    expect(doc.Statement).toEqual([{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${PREFIX}*`] }]);
  });

  it('returns fresh arrays: mutating one policy does not change the next', () => {
    const first = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn, scopes: ['keys:read'], context: {} });
    const statement = first.policyDocument.Statement[0] as { Resource: string[] };
    statement.Resource.push(`${PREFIX}*`);
    const second = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn, scopes: ['keys:read'], context: {} });
    expect(evaluatePolicy(second.policyDocument, `${PREFIX}GET/v1/items`)).toBe('deny');
  });

  it('takes the prefix from the request, so another stage gets its own resources', () => {
    const other = 'arn:aws:execute-api:us-east-1:210987654321:zzz/dev/GET/v1/keys';
    const doc = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn: other, scopes: ['keys:read'], context: {} }).policyDocument;
    expect(evaluatePolicy(doc, 'arn:aws:execute-api:us-east-1:210987654321:zzz/dev/GET/v1/keys/k')).toBe('allow');
    expect(evaluatePolicy(doc, `${PREFIX}GET/v1/keys/k`)).toBe('deny');
  });

  it('throws PolicyError on a malformed methodArn', () => {
    expect(() => buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn: 'nope', scopes: [], context: {} })).toThrow(PolicyError);
  });

  it('reports the patterns per route', () => {
    expect(ROUTES.map(routeResourcePattern)).toContain('POST/v1/keys/*/rotate');
  });
});

describe('denyAllPolicy', () => {
  it('denies every route of the stage', () => {
    const doc = denyAllPolicy('p', `${PREFIX}GET/v1/keys`).policyDocument;
    for (const route of ROUTES) expect(evaluatePolicy(doc, arnFor(route.method, concretePath(route, ['k'])))).toBe('deny');
    expect(doc.Statement).toEqual([{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${PREFIX}*`] }]);
  });

  it('still denies (everything) on a malformed methodArn', () => {
    expect(denyAllPolicy('p', 'garbage').policyDocument.Statement).toEqual([{ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: ['*'] }]);
  });
});

describe('evaluatePolicy', () => {
  const arn = `${PREFIX}GET/v1/items/i1`;
  const doc = (...Statement: unknown[]) => ({ Version: '2012-10-17', Statement }) as Parameters<typeof evaluatePolicy>[0];

  it('explicit Deny wins over Allow', () => {
    const allow = { Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${PREFIX}*` };
    const deny = { Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${PREFIX}GET/v1/items/*`] };
    expect(evaluatePolicy(doc(allow), arn)).toBe('allow');
    expect(evaluatePolicy(doc(allow, deny), arn)).toBe('deny');
    expect(evaluatePolicy(doc(deny, allow), arn)).toBe('deny');
    expect(evaluatePolicy(doc(), arn)).toBe('deny');
  });

  it.each([
    ['*', 'allow'],
    ['execute-api:*', 'allow'],
    ['EXECUTE-API:invoke', 'allow'], // action names are case-insensitive
    ['execute-api:Inv?ke', 'allow'],
    ['execute-api:ManageConnections', 'deny'],
    ['s3:*', 'deny'],
  ])('Action %j → %s', (Action, expected) => {
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action, Resource: arn }), arn)).toBe(expected);
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: ['s3:GetObject', Action], Resource: [arn] }), arn)).toBe(expected);
  });

  it.each([
    ['NotResource', { Effect: 'Allow', Action: '*', NotResource: 'arn:x' }],
    ['NotAction', { Effect: 'Allow', NotAction: 's3:*', Resource: '*' }],
    ['Condition', { Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }],
    ['Principal', { Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' }],
    ['lower-case effect', { Effect: 'allow', Action: '*', Resource: '*' }],
    ['empty Resource array', { Effect: 'Allow', Action: '*', Resource: [] }],
    ['non-string Resource', { Effect: 'Allow', Action: '*', Resource: [1] }],
    ['missing Action', { Effect: 'Allow', Resource: '*' }],
    ['null statement', null],
  ])('fails closed on %s, even beside a matching Allow', (_name, statement) => {
    expect(evaluatePolicy(doc(statement), arn)).toBe('deny');
    expect(evaluatePolicy(doc({ Effect: 'Allow', Action: '*', Resource: '*' }, statement), arn)).toBe('deny');
  });

  it('accepts a single statement object and fails closed on unknown versions', () => {
    const allow = { Effect: 'Allow', Action: '*', Resource: '*' };
    expect(evaluatePolicy({ Version: '2012-10-17', Statement: allow } as unknown as Parameters<typeof evaluatePolicy>[0], arn)).toBe('allow');
    expect(evaluatePolicy({ Version: '2020-01-01', Statement: [allow] } as Parameters<typeof evaluatePolicy>[0], arn)).toBe('deny');
    expect(evaluatePolicy(null as unknown as Parameters<typeof evaluatePolicy>[0], arn)).toBe('deny');
  });
});

describe('the real route table', () => {
  it('is policy-safe', () => {
    expect(() => assertRouteTableIsPolicySafe(ROUTES)).not.toThrow();
    expect(routeTableConflicts(ROUTES)).toEqual([]);
  });

  it('a policy cached from one route decides every other route correctly', () => {
    // Built for GET /v1/keys (the first request of this identity), then reused by API Gateway.
    const first = `${PREFIX}GET/v1/keys`;
    const doc = buildPolicy({ routes: GATEHOUSE_API.routes, principalId: 'p', methodArn: first, scopes: ['keys:read', 'items:write'], context: {} }).policyDocument;
    const cases: [string, string, 'allow' | 'deny'][] = [
      ['GET', '/v1/keys', 'allow'],
      ['GET', '/v1/keys/k1', 'allow'],
      ['GET', '/v1/whoami', 'allow'],
      ['POST', '/v1/items', 'allow'],
      ['PUT', '/v1/items/i1', 'allow'],
      ['DELETE', '/v1/items/i1', 'allow'],
      ['POST', '/v1/keys', 'deny'],
      ['DELETE', '/v1/keys/k1', 'deny'],
      ['POST', '/v1/keys/k1/rotate', 'deny'],
      ['GET', '/v1/items', 'deny'],
      ['GET', '/v1/items/i1', 'deny'],
      ['GET', '/v1/usage', 'deny'],
      ['GET', '/v1/audit', 'deny'],
      ['GET', '/health', 'deny'],
      ['POST', '/v1/verify', 'deny'],
    ];
    for (const [method, path, expected] of cases) expect([method, path, evaluatePolicy(doc, arnFor(method, path))]).toEqual([method, path, expected]);
  });

  it('property: for every scope subset, a cached policy allows a concrete path iff its route is allowed', () => {
    let checks = 0;
    fc.assert(
      fc.property(
        fc.nat({ max: ROUTES.length - 1 }),
        fc.nat({ max: ROUTES.length - 1 }),
        fc.array(paramValue, { minLength: 2, maxLength: 2 }),
        (routeIndex, triggerIndex, values) => {
          const route = ROUTES[routeIndex] as Route;
          const trigger = ROUTES[triggerIndex] as Route;
          const path = concretePath(route, values);
          // Judge by the route API Gateway resolves the path to (in this table it is always `route`).
          const resolved = resolve(ROUTES, route.method, path);
          expect(resolved).toBe(route);
          for (let mask = 0; mask < 1 << ALL_SCOPES.length; mask += 1) {
            const scopes = scopesOf(mask);
            const triggerArn = arnFor(trigger.method, concretePath(trigger, ['first']));
            const expected = allowedFor(route, new Set(scopes)) ? 'allow' : 'deny';
            expect(decide(ROUTES, scopes, route.method, path, triggerArn)).toBe(expected);
            checks += 1;
          }
        },
      ),
      { numRuns: 1000 },
    );
    expect(checks).toBe(1000 * 64);
  });
});

describe('route-table check', () => {
  it('forbidden /a/{x} beside allowed /a/{x}/b: accepted, and exact in both directions', () => {
    const routes = [token('GET', '/a/{x}', 'items:read'), token('GET', '/a/{x}/b', 'items:write')];
    expect(() => assertRouteTableIsPolicySafe(routes)).not.toThrow();
    // Only /a/{x}/b allowed: its Allow GET/a/*/b cannot reach /a/x (a parameter has no '/'), no Deny needed.
    expect(decide(routes, ['items:write'], 'GET', '/a/x/b')).toBe('allow');
    expect(decide(routes, ['items:write'], 'GET', '/a/x')).toBe('deny');
    // Only /a/{x} allowed: its Allow GET/a/* reaches /a/x/b, so a Deny GET/a/*/b is added.
    const policy = buildPolicy({ principalId: 'p', methodArn: arnFor('GET', '/a/x'), scopes: ['items:read'], routes, context: {} });
    expect(policy.policyDocument.Statement[1]).toEqual({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource: [`${PREFIX}GET/a/*/b`] });
    expect(decide(routes, ['items:read'], 'GET', '/a/x')).toBe('allow');
    expect(decide(routes, ['items:read'], 'GET', '/a/x/b')).toBe('deny');
  });

  it('literal beats parameter: /a/me and /a/{x} with different scopes are accepted', () => {
    const routes = [token('GET', '/a/{x}', 'items:read'), token('GET', '/a/me')];
    expect(() => assertRouteTableIsPolicySafe(routes)).not.toThrow();
    expect(decide(routes, [], 'GET', '/a/me')).toBe('allow');
    expect(decide(routes, [], 'GET', '/a/other')).toBe('deny');
    const flipped = [token('GET', '/a/{x}'), token('GET', '/a/me', 'items:read')];
    expect(() => assertRouteTableIsPolicySafe(flipped)).not.toThrow();
    // The Deny GET/a/me stops the always-allowed GET/a/* there, and /a/x still resolves to /a/{x}.
    expect(decide(flipped, [], 'GET', '/a/me')).toBe('deny');
    expect(decide(flipped, [], 'GET', '/a/x')).toBe('allow');
    expect(decide(flipped, ['items:read'], 'GET', '/a/me')).toBe('allow');
  });

  it('rejects a table no Allow+Deny glob policy can serve, naming the routes', () => {
    // With items:read only, GET/a/* reaches /a/x/b (items:write); the only glob Deny covering every
    // /a/{x}/b is GET/a/*/b, which also matches /a/x/c/b (items:read).
    const routes = [token('GET', '/a/{x}', 'items:read'), token('GET', '/a/{x}/b', 'items:write'), token('GET', '/a/{x}/c/b', 'items:read')];
    expect(() => assertRouteTableIsPolicySafe(routes)).toThrow(PolicyError);
    expect(() => assertRouteTableIsPolicySafe(routes)).toThrow(/GET \/a\/\{x\} .*GET \/a\/\{x\}\/b .*GET \/a\/\{x\}\/c\/b/);
    expect(() => buildPolicy({ principalId: 'p', methodArn: arnFor('GET', '/a/x'), scopes: [], routes, context: {} })).toThrow(PolicyError);
  });

  it('treats public and IAM routes as forbidden to the authorizer', () => {
    const routes: Route[] = [
      token('GET', '/{x}'),
      { method: 'GET', path: '/{x}/verify', handler: 'verify', auth: 'iam', summary: '' },
      token('GET', '/{x}/{y}/verify'),
    ];
    expect(() => assertRouteTableIsPolicySafe(routes)).toThrow(/auth iam/);
    const fine: Route[] = [token('GET', '/{x}'), { method: 'GET', path: '/health', handler: 'health', auth: 'public', summary: '' }];
    expect(() => assertRouteTableIsPolicySafe(fine)).not.toThrow();
    expect(decide(fine, [], 'GET', '/health')).toBe('deny');
    expect(decide(fine, [], 'GET', '/x')).toBe('allow');
  });

  it.each([
    ['ambiguous siblings', [token('GET', '/a/{x}'), token('GET', '/a/{y}', 'items:read')]],
    ['duplicate', [token('GET', '/a'), token('GET', '/a')]],
    ['wildcard literal', [token('GET', '/a/*')]],
    ['greedy parameter', [token('GET', '/{proxy+}')]],
    ['empty segment', [token('GET', '/a//b')]],
    ['no leading slash', [token('GET', 'a/b')]],
    ['half brace', [token('GET', '/a/{x')]],
  ])('rejects malformed tables: %s', (_name, routes) => {
    expect(() => assertRouteTableIsPolicySafe(routes)).toThrow(PolicyError);
  });
});

describe('property: random route tables', () => {
  const TABLE_SCOPES: readonly Scope[] = ['keys:read', 'keys:write', 'items:read'];
  const LITERALS = ['a', 'b', 'me'];
  const routeSpec = fc.record({
    method: fc.constantFrom<HttpMethod>('GET', 'POST', 'DELETE'),
    segments: fc.array(fc.option(fc.constantFrom(...LITERALS), { nil: null, freq: 2 }), { minLength: 1, maxLength: 4 }),
    scope: fc.option(fc.constantFrom(...TABLE_SCOPES), { nil: undefined, freq: 4 }),
    auth: fc.constantFrom<Route['auth']>('token', 'token', 'token', 'token', 'token', 'token', 'public', 'iam'),
  });
  const shape = (s: { method: string; segments: (string | null)[] }): string => `${s.method} ${s.segments.map((x) => x ?? '{}').join('/')}`;
  const tableArb = fc.uniqueArray(routeSpec, { minLength: 1, maxLength: 6, selector: shape }).map((specs) =>
    specs.map(
      (s): Route => ({
        method: s.method,
        path: '/' + s.segments.map((x, i) => x ?? `{p${i}}`).join('/'),
        handler: 'items',
        auth: s.auth,
        ...(s.auth === 'token' && s.scope !== undefined ? { scope: s.scope } : {}),
        summary: '',
      }),
    ),
  );
  const probeArb = fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    segments: fc.array(fc.constantFrom('a', 'b', 'me', 'x', '*', '?', '..', '🙂'), { minLength: 1, maxLength: 5 }),
  });

  it('accepted tables get exact policies for every scope subset; rejected ones have real counterexamples', () => {
    const RUNS = 1500;
    let accepted = 0;
    let rejected = 0;
    let probesChecked = 0;
    let policiesWithDeny = 0;
    fc.assert(
      fc.property(tableArb, fc.array(paramValue, { minLength: 1, maxLength: 4 }), fc.array(probeArb, { maxLength: 10 }), (routes, pool, probes) => {
        const conflicts = routeTableConflicts(routes);
        if (conflicts.length > 0) {
          rejected += 1;
          expect(() => assertRouteTableIsPolicySafe(routes)).toThrow(PolicyError);
          // Each conflict is a genuine failure of Allow = glob(route) / Deny = glob(forbidden route):
          // the Allow reaches a path that resolves to the forbidden route, and that route's Deny
          // matches a path that resolves to a route allowed under the same scopes.
          for (const c of conflicts) {
            const held = new Set(c.scopes);
            expect(allowedFor(c.allowed, held) && allowedFor(c.blocked, held) && !allowedFor(c.forbidden, held)).toBe(true);
            expect(resolveKey(routes, c.reachedPath)).toBe(c.forbidden);
            expect(iamGlobMatches(routeResourcePattern(c.allowed), c.reachedPath)).toBe(true);
            expect(resolveKey(routes, c.blockedPath)).toBe(c.blocked);
            expect(iamGlobMatches(routeResourcePattern(c.forbidden), c.blockedPath)).toBe(true);
          }
          return;
        }
        accepted += 1;
        // Concrete paths: each route with random values, and with every table literal in every
        // parameter (the shadowing cases), plus free-form probes that may resolve anywhere.
        const paths: [string, string][] = probes.map((p) => [p.method, '/' + p.segments.join('/')]);
        for (const route of routes) {
          paths.push([route.method, concretePath(route, pool)]);
          for (const literal of LITERALS) paths.push([route.method, concretePath(route, [literal])]);
        }
        for (let mask = 0; mask < 1 << TABLE_SCOPES.length; mask += 1) {
          const scopes = scopesOf(mask, TABLE_SCOPES);
          const held = new Set(scopes);
          const first = routes[0] as Route;
          const policy = buildPolicy({ principalId: 'p', methodArn: arnFor(first.method, concretePath(first, ['v'])), scopes, routes, context: {} });
          expect(policy.policyDocument.Statement.length).toBeLessThanOrEqual(2);
          if (policy.policyDocument.Statement.some((st) => st.Effect === 'Deny' && 'Resource' in st && JSON.stringify(st.Resource) !== JSON.stringify([`${PREFIX}*`]))) {
            policiesWithDeny += 1;
          }
          for (const [method, path] of paths) {
            const resolved = resolve(routes, method, path);
            if (resolved === undefined) continue; // API Gateway answers 403 before any authorizer
            const expected = allowedFor(resolved, held) ? 'allow' : 'deny';
            const actual = evaluatePolicy(policy.policyDocument, arnFor(method, path));
            if (actual !== expected) throw new Error(`${method} ${path} → ${resolved.path}: ${actual}, want ${expected}`);
            probesChecked += 1;
          }
        }
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: most tables are accepted and checked, and some are rejected (and shown to be real).
    expect(accepted + rejected).toBe(RUNS);
    expect(accepted / RUNS).toBeGreaterThan(0.5);
    expect(rejected).toBeGreaterThan(0);
    expect(probesChecked).toBeGreaterThan(RUNS * 10);
    expect(policiesWithDeny).toBeGreaterThan(0); // the Deny half of the construction is exercised
    console.log(`random tables: ${accepted} accepted, ${rejected} rejected, ${probesChecked} path×scope-set checks, ${policiesWithDeny} policies with a route Deny`);
  });
});
