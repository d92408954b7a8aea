/** `gatehouse call METHOD PATH`: any route, with the credential its route table entry asks for. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

import type { Command } from 'commander';

import type { Authenticator } from '../../auth.js';
import { findRoute } from '../../routes.js';
import type { CommandContext } from '../context.js';
import { UsageError } from '../errors.js';
import { line } from '../format.js';
import { parseHeader } from '../options.js';

interface CallOptions {
  data?: string;
  sigv4?: boolean;
  header?: [string, string][];
  include?: boolean;
}

/** The `--data` body: inline JSON, `@file`, or `-` for stdin; it must be JSON. */
async function readBody(context: CommandContext, data: string): Promise<string> {
  const raw = data === '-' ? await context.io.readStdin() : data.startsWith('@') ? await readFile(resolve(context.io.cwd, data.slice(1)), 'utf8') : data;
  try {
    JSON.parse(raw);
  } catch {
    throw new UsageError('--data is not valid JSON.');
  }
  return raw;
}

async function call(context: CommandContext, command: Command, method: string, path: string, options: CallOptions): Promise<void> {
  if (!/^[A-Za-z]+$/.test(method)) throw new UsageError(`"${method}" is not an HTTP method.`);
  if (!path.startsWith('/')) throw new UsageError(`The path must start with / (e.g. /v1/whoami), not "${path}".`);
  const upper = method.toUpperCase();
  const { g, out } = context.start(command);
  const profile = await context.profile(g);
  const route = findRoute(upper, path.split('?')[0] ?? path);

  const body = options.data === undefined ? undefined : await readBody(context, options.data);
  const headers: Record<string, string> = {};
  for (const [name, value] of options.header ?? []) {
    if (['authorization', 'x-api-key'].includes(name.toLowerCase())) {
      throw new UsageError(`Pass credentials with --api-key, GATEHOUSE_API_KEY or login, not -H ${name}.`);
    }
    headers[name] = value;
  }

  const useSigv4 = options.sigv4 === true || route?.auth === 'iam';
  let auth: Authenticator | undefined;
  let iam: Authenticator | undefined;
  if (useSigv4) {
    iam = context.sigv4(profile);
    auth = iam;
  } else if (route?.auth !== 'public') {
    auth = await context.requiredCredential(profile, g);
  }
  if (auth) context.announceCredential(out);
  const client = context.client(profile, out, auth, iam, g);
  const response = await client.request(upper, path, { ...(body === undefined ? {} : { body }), headers, ...(auth ? { authenticator: auth } : {}) });
  if (options.include) {
    out.out(line(`HTTP ${response.status}`));
    response.headers.forEach((value, name) => out.out(line(`${name}: ${value}`)));
    out.out(line());
  }
  if (response.body === undefined) {
    if (!out.json && !options.include) out.notice('no_content', `${response.status} (no content)`);
    return;
  }
  if (typeof response.body === 'string') out.out(line(response.body));
  else out.value(response.body);
}

export function registerCall(program: Command, context: CommandContext): void {
  program
    .command('call')
    .description('call any route, e.g. `call GET /v1/items` or `call POST /v1/verify --data \'{"key":"…"}\' --sigv4`')
    .argument('<method>', 'HTTP method')
    .argument('<path>', 'path with an optional query string, e.g. /v1/keys?limit=5')
    .option('-d, --data <json>', 'JSON body; @file reads a file, - reads stdin')
    .option('--sigv4', 'sign with AWS SigV4 (automatic for IAM routes)')
    .option('-H, --header <header>', 'extra header "Name: value" (repeatable)', parseHeader)
    .option('-i, --include', 'print the status and response headers')
    .action((method: string, path: string, options: CallOptions, command: Command) => call(context, command, method, path, options));
}
