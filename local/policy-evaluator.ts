/**
 * Evaluates an authorizer policy against a methodArn as API Gateway does, for the local gateway and the
 * tests. Pure, and deliberately independent of `lambdas/core/policy.ts` (it shares no code with it), so
 * that tests use it as an oracle rather than checking the policy builder against itself.
 *
 * Semantics (IAM): an explicit Deny wins; otherwise any matching Allow allows; otherwise deny.
 * A statement matches when one of its Actions matches `execute-api:Invoke` (action names are
 * case-insensitive in IAM, and may be globs such as `*` or `execute-api:*`) and one of its Resources
 * matches the methodArn (case-sensitive).
 *
 * Fail closed: the authorizer only ever emits Effect/Action/Resource statements. Anything else —
 * NotAction, NotResource, Principal, Condition, an unknown key, an Effect other than exactly `Allow`
 * or `Deny`, a non-string Action/Resource — would need semantics this evaluator does not implement,
 * so the whole policy evaluates to 'deny' rather than guessing (a guess could open a route locally
 * that AWS would refuse, or the reverse, and hide a bug until deployment).
 */
import type { APIGatewayAuthorizerResult } from 'aws-lambda';

type PolicyDocument = APIGatewayAuthorizerResult['policyDocument'];

const INVOKE = 'execute-api:invoke';
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'Resource']);

/**
 * IAM wildcard match: `*` is any run of characters (including `/`, possibly empty), `?` exactly one
 * character (code point), everything else literal and case-sensitive. No regular expression is built,
 * so metacharacters in either string mean nothing. Greedy two-pointer matching with backtracking to the
 * last `*`: O(|pattern|·|value|) worst case, no exponential blow-up.
 */
export function iamGlobMatches(pattern: string, value: string): boolean {
  const p = Array.from(pattern);
  const v = Array.from(value);
  let pi = 0;
  let vi = 0;
  let star = -1; // index in p of the last `*` seen
  let starValue = 0; // index in v where that `*` started matching
  while (vi < v.length) {
    const pc = p[pi];
    if (pc === '*') {
      star = pi;
      starValue = vi;
      pi += 1;
    } else if (pc !== undefined && (pc === '?' || pc === v[vi])) {
      pi += 1;
      vi += 1;
    } else if (star !== -1) {
      // Let the last `*` swallow one more character and retry from just after it.
      starValue += 1;
      vi = starValue;
      pi = star + 1;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi += 1;
  return pi === p.length;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A string or a non-empty array of strings, as a list; undefined if it is anything else. */
function stringList(value: unknown): readonly string[] | undefined {
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value) || value.length === 0) return undefined;
  const items: readonly unknown[] = value;
  return items.every((item): item is string => typeof item === 'string') ? items : undefined;
}

interface ParsedStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

function parseStatement(raw: unknown): ParsedStatement | undefined {
  if (!isRecord(raw)) return undefined;
  if (Object.keys(raw).some((key) => !STATEMENT_KEYS.has(key))) return undefined;
  const effect = raw.Effect;
  if (effect !== 'Allow' && effect !== 'Deny') return undefined;
  const actions = stringList(raw.Action);
  const resources = stringList(raw.Resource);
  if (actions === undefined || resources === undefined) return undefined;
  return { effect, actions, resources };
}

export function evaluatePolicy(policy: PolicyDocument, methodArn: string): 'allow' | 'deny' {
  const doc: unknown = policy;
  if (!isRecord(doc) || Object.keys(doc).some((key) => !DOCUMENT_KEYS.has(key))) return 'deny';
  if (doc.Version !== undefined && !(typeof doc.Version === 'string' && VERSIONS.has(doc.Version))) return 'deny';
  // IAM accepts a single statement object as well as an array.
  const rawStatements: unknown[] = Array.isArray(doc.Statement) ? (doc.Statement as unknown[]) : [doc.Statement];

  // Parse everything first: a malformed statement anywhere denies, even after a matching Allow.
  const statements: ParsedStatement[] = [];
  for (const raw of rawStatements) {
    const statement = parseStatement(raw);
    if (statement === undefined) return 'deny';
    statements.push(statement);
  }

  let allowed = false;
  for (const { effect, actions, resources } of statements) {
    const actionMatches = actions.some((action) => iamGlobMatches(action.toLowerCase(), INVOKE));
    if (!actionMatches || !resources.some((resource) => iamGlobMatches(resource, methodArn))) continue;
    if (effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'deny';
}
