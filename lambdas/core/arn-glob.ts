/**
 * Language questions about IAM Resource globs and API Gateway route templates, decided exactly.
 *
 * A glob is IAM's: `*` matches any run of characters including `/` (possibly empty), `?` exactly one
 * character, everything else itself. A template is a route key such as `GET/v1/keys/{keyId}`: each
 * `{param}` is a whole `/`-separated segment and matches `[^/]+` (API Gateway path parameters are
 * non-empty and never contain `/`; greedy `{proxy+}` is not supported).
 *
 * The authorizer's policy is only safe if we know, before any request arrives, which concrete paths an
 * Allow or Deny pattern can reach. Guessing with regular expressions over sample paths is how
 * "allow only the first route" and "a Deny that blocks a literal sibling" bugs ship, so the question
 * "does glob G match some string of template T that none of templates E1..En matches?" is answered by
 * searching the product automaton G × T × E1 × … × En, and a witness string is returned when one exists.
 *
 * Characters are compared as Unicode code points (what IAM counts as "one character" for `?`).
 */

const SLASH = 0x2f;
/** Template token for a `{param}` segment; literal tokens are code points (≥ 0). */
const PARAM = -1;
/** Glob tokens: `*` and `?`; literal tokens are code points. */
const STAR = -2;
const ANY = -3;
/** Dead state of a deterministic template automaton. */
const DEAD = -1;

const PARAM_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0) ?? 0);
  return out;
}

/** Replaces every `{param}` segment of a template with `*`: the IAM pattern that covers the template. */
export function templateToGlob(template: string): string {
  return template
    .split('/')
    .map((segment) => (segment.startsWith('{') ? '*' : segment))
    .join('/');
}

/**
 * Template → tokens. Throws on shapes the automaton below does not model (a brace that is not a whole
 * `{name}` segment), because silently treating such text as literal would make every answer wrong.
 */
function compileTemplate(template: string): number[] {
  const tokens: number[] = [];
  const segments = template.split('/');
  segments.forEach((segment, index) => {
    if (index > 0) tokens.push(SLASH);
    if (PARAM_SEGMENT.test(segment)) {
      tokens.push(PARAM);
    } else if (segment.includes('{') || segment.includes('}')) {
      throw new Error(`Template ${JSON.stringify(template)}: "${segment}" must be a whole {name} segment or a literal`);
    } else {
      tokens.push(...codePoints(segment));
    }
  });
  return tokens;
}

function compileGlob(glob: string): number[] {
  return codePoints(glob).map((cp) => (cp === 0x2a ? STAR : cp === 0x3f ? ANY : cp));
}

/*
 * Template automaton, deterministic because a parameter always ends at `/` or at the end of the string.
 * State = token index * 2 + (1 if at least one character of the parameter at that index was consumed).
 */
function templateStep(tokens: readonly number[], state: number, symbol: number): number {
  let index = state >> 1;
  if ((state & 1) === 1) {
    if (symbol !== SLASH) return state; // still inside the parameter
    index += 1; // the parameter ends here; the `/` must match the next token
  }
  const token = tokens[index];
  if (token === undefined) return DEAD;
  if (token === PARAM) return symbol === SLASH ? DEAD : index * 2 + 1;
  return token === symbol ? (index + 1) * 2 : DEAD;
}

function templateAccepts(tokens: readonly number[], state: number): boolean {
  if (state === DEAD) return false;
  const index = state >> 1;
  return (state & 1) === 1 ? index === tokens.length - 1 : index === tokens.length;
}

/** A code point that is in none of the automata's literals (nor `/`): it stands for "any other character". */
function freshSymbol(used: ReadonlySet<number>): number {
  for (const ch of 'xyzqkw0123456789') {
    const cp = ch.codePointAt(0) ?? 0;
    if (!used.has(cp)) return cp;
  }
  let cp = 0xe000; // Private Use Area: never in a route, and distinct from everything used
  while (used.has(cp)) cp += 1;
  return cp;
}

interface SearchNode {
  readonly glob: number;
  readonly template: number;
  readonly excluded: readonly number[];
  readonly parent: string | undefined;
  /** Code point consumed on the edge from the parent; undefined for the `*`-skips-nothing edge. */
  readonly symbol: number | undefined;
}

/**
 * A string matched by `glob` and by `template` and by none of `excluded`, or undefined if there is none.
 *
 * Breadth-first search over (glob position, template state, excluded-template states). The glob side is
 * nondeterministic (a `*` may stop or go on), which is fine for an existence search; the excluded side
 * needs determinism (we must know that *no* run of Ei accepts), which templates have. Any character that
 * appears in none of the inputs behaves identically in every automaton, so the alphabet is finite: the
 * literals, `/`, and one fresh symbol. The result is exact, not an approximation.
 */
export function globTemplateWitness(glob: string, template: string, excluded: readonly string[] = []): string | undefined {
  const g = compileGlob(glob);
  const t = compileTemplate(template);
  const ex = excluded.map(compileTemplate);

  const used = new Set<number>([SLASH]);
  for (const tokens of [g, t, ...ex]) for (const token of tokens) if (token >= 0) used.add(token);
  // Fresh symbol first: breadth-first search then prefers it, so witnesses read `GET/a/x/b`, not `GET/a/G/b`.
  const alphabet = [freshSymbol(used), ...used];

  const nodes = new Map<string, SearchNode>();
  const queue: string[] = [];
  const visit = (node: SearchNode): void => {
    const key = `${node.glob}|${node.template}|${node.excluded.join(',')}`;
    if (nodes.has(key)) return;
    nodes.set(key, node);
    queue.push(key);
  };
  visit({ glob: 0, template: 0, excluded: ex.map(() => 0), parent: undefined, symbol: undefined });

  for (let head = 0; head < queue.length; head += 1) {
    const key = queue[head] ?? '';
    const node = nodes.get(key);
    if (node === undefined) continue;
    const globToken = g[node.glob];

    if (
      node.glob === g.length &&
      templateAccepts(t, node.template) &&
      node.excluded.every((state, i) => !templateAccepts(ex[i] ?? [], state))
    ) {
      return reconstruct(nodes, key);
    }
    if (globToken === undefined) continue; // glob exhausted: only acceptance (checked above) is possible

    if (globToken === STAR) {
      visit({ ...node, glob: node.glob + 1, parent: key, symbol: undefined });
    }
    for (const symbol of alphabet) {
      if (globToken >= 0 && globToken !== symbol) continue;
      const nextTemplate = templateStep(t, node.template, symbol);
      if (nextTemplate === DEAD) continue;
      visit({
        glob: globToken === STAR ? node.glob : node.glob + 1,
        template: nextTemplate,
        // A dead excluded automaton can never accept again; keep it as DEAD so keys stay comparable.
        excluded: node.excluded.map((state, i) => (state === DEAD ? DEAD : templateStep(ex[i] ?? [], state, symbol))),
        parent: key,
        symbol,
      });
    }
  }
  return undefined;
}

function reconstruct(nodes: ReadonlyMap<string, SearchNode>, key: string): string {
  const symbols: number[] = [];
  let node = nodes.get(key);
  while (node?.parent !== undefined) {
    if (node.symbol !== undefined) symbols.push(node.symbol);
    node = nodes.get(node.parent);
  }
  return String.fromCodePoint(...symbols.reverse());
}

/**
 * Whether some string is matched by the IAM glob, by the template (`{param}` = `[^/]+`) and by none of
 * the `excluded` templates (used to remove the paths API Gateway resolves to a more specific route).
 */
export function globOverlapsTemplate(glob: string, template: string, excluded: readonly string[] = []): boolean {
  return globTemplateWitness(glob, template, excluded) !== undefined;
}

/** Whether a concrete string is in the template's language. */
export function templateMatches(template: string, value: string): boolean {
  const tokens = compileTemplate(template);
  let state = 0;
  for (const cp of codePoints(value)) {
    state = templateStep(tokens, state, cp);
    if (state === DEAD) return false;
  }
  return templateAccepts(tokens, state);
}
