/**
 * The console's response headers. The page runs only its own script and style files ('self': no inline script or
 * style, no eval, no third-party origin), talks only to its own API ('self') and to the token endpoint (the one
 * other origin it needs: the code exchange and refreshes), can be framed by nobody, and under Trusted Types no string
 * can reach an HTML or script sink — the console builds its DOM with createElement/textContent, so nothing it shows,
 * a key's name or an audit event's path, can become markup.
 */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ConsoleSignIn } from './sign-in.js';

/** The Content-Security-Policy of every console response. */
export function consoleContentSecurityPolicy(signIn: ConsoleSignIn | null): string {
  const connect = ["'self'", ...(signIn ? [new URL(signIn.tokenEndpoint).origin] : [])];
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    `connect-src ${[...new Set(connect)].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
}

/**
 * Headers set on every console response, over what the shared middleware stack set: its CSP for HTML is a document
 * that runs nothing (sandbox), and its Permissions-Policy denies the clipboard the copy button writes to.
 */
export function consoleSecurityHeaders(signIn: ConsoleSignIn | null): Readonly<Record<string, string>> {
  return {
    'Content-Security-Policy': consoleContentSecurityPolicy(signIn),
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), clipboard-read=(), clipboard-write=(self)',
  };
}

/** The result with `headers` set over its own (names compared case-insensitively, so none is sent twice). */
export function withHeaders(result: APIGatewayProxyResult, headers: Readonly<Record<string, string>>): APIGatewayProxyResult {
  const replaced = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const kept = Object.entries(result.headers ?? {}).filter(([name]) => !replaced.has(name.toLowerCase()));
  return { ...result, headers: { ...Object.fromEntries(kept), ...headers } };
}
