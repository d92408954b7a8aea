/**
 * X.500 distinguished names (a certificate's subject and issuer) compared as what they say, not as how one program
 * prints them. A name is a set of `TYPE=value` attributes: `CN=billing,O=Example` and `O=Example, CN=billing` are
 * the same name; `cn` is `CN`; values compare exactly (case included), after RFC 4514 escapes are undone.
 *
 * Two spellings come in: what an operator writes in configuration (RFC 4514 / 2253 text, `CN=a,O=b\, Inc.`), and
 * what node:crypto's X509Certificate prints (one RDN per line, in certificate order, RFC 2253 escapes). API Gateway's
 * `subjectDN` string is never parsed: its exact format is not documented, so Gatehouse reads the certificate itself.
 */

/** One attribute of a name: its type in upper case and its unescaped value. */
export type NameAttribute = readonly [type: string, value: string];

/** Undoes RFC 4514 escapes: `\,` `\+` `\"` `\\` `\<` `\>` `\;` `\=` `\ ` `\#`, and `\HH` hex bytes (UTF-8). */
function unescapeValue(raw: string): string | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch !== '\\') {
      bytes.push(...Buffer.from(ch, 'utf8'));
      continue;
    }
    const next = raw[i + 1];
    if (next === undefined) return undefined;
    if (/[0-9A-Fa-f]/.test(next) && /[0-9A-Fa-f]/.test(raw[i + 2] ?? '')) {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (',+"\\<>;= #'.includes(next)) {
      bytes.push(next.charCodeAt(0));
      i += 1;
    } else {
      return undefined;
    }
  }
  const text = Buffer.from(bytes).toString('utf8');
  return text.includes('\uFFFD') ? undefined : text;
}

/** Splits at `separator` where it is not escaped by a backslash. */
function splitUnescaped(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') {
      current += ch + (text[i + 1] ?? '');
      i += 1;
      continue;
    }
    const match = separator.exec(text.slice(i));
    if (match && match.index === 0) {
      parts.push(current);
      current = '';
      i += match[0].length - 1;
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

function attribute(text: string): NameAttribute | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  const type = text.slice(0, eq).trim();
  // Leading and trailing spaces around a value are not part of it unless escaped (RFC 4514 §3).
  const value = unescapeValue(text.slice(eq + 1).replace(/^ +/, '').replace(/(?<!\\) +$/, ''));
  if (!/^[A-Za-z][A-Za-z0-9-]*$|^\d+(\.\d+)+$/.test(type) || value === undefined || value === '') return undefined;
  return [type.toUpperCase(), value];
}

function parseAll(parts: readonly string[]): NameAttribute[] | undefined {
  const out: NameAttribute[] = [];
  for (const part of parts) {
    const a = attribute(part);
    if (!a) return undefined;
    out.push(a);
  }
  return out.length > 0 ? out : undefined;
}

/** A name written as RFC 4514 text (`CN=billing,O=Example`), or undefined when it is not one. */
export function parseDistinguishedName(text: string): NameAttribute[] | undefined {
  if (text.includes('\n')) return undefined;
  return parseAll(splitUnescaped(text, /^[,+]/));
}

/** A name as node:crypto prints it (`X509Certificate.subject`: one RDN per line, `a + b` within one). */
export function nameFromNode(printed: string): NameAttribute[] | undefined {
  return parseAll(printed.split('\n').flatMap((line) => splitUnescaped(line, /^ \+ /)));
}

const key = (name: readonly NameAttribute[]): string => JSON.stringify(name.map(([t, v]) => `${t}=${v}`).sort());

/** Same attributes, whatever their order and however they were escaped. */
export function sameName(a: readonly NameAttribute[], b: readonly NameAttribute[]): boolean {
  return a.length === b.length && key(a) === key(b);
}

/**
 * A certificate's name (certificate order, as {@link nameFromNode} reads it) as one RFC 4514 line, most specific
 * first (`CN=billing,O=Example`): what the local gateway puts in `subjectDN` and what audit events show. Control
 * characters are written as `\HH`, so the line stays one line.
 */
export function formatName(name: readonly NameAttribute[]): string {
  return [...name]
    .reverse()
    .map(([t, v]) => `${t}=${v.replace(/[,+"\\<>;=]|\p{Cc}/gu, (c) => (/\p{Cc}/u.test(c) ? `\\${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}` : `\\${c}`))}`)
    .join(',');
}
