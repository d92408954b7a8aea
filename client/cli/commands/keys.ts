/** `gatehouse keys create|list|get|revoke|rotate|plan`: the API keys of the caller's tenant. */
import type { Command } from 'commander';

import type { Scope } from '../../../lambdas/core/scopes.js';
import { ALL_SCOPES } from '../../../lambdas/routes.js';
import type { CreatedKey, KeyView } from '../../operations.js';
import type { CommandContext } from '../context.js';
import { fields, formatDuration, formatTime, line, table } from '../format.js';
import { parseNonNegativeInt, parseScopes } from '../options.js';
import type { Output } from '../output.js';

interface CreateOptions {
  name: string;
  scopes: Scope[];
  expiresAt?: string;
  plan?: string;
}

interface ListOptions {
  limit?: number;
  nextToken?: string;
  all?: boolean;
}

/** A new key's plaintext is shown this once: on stdout, with the warning on stderr. */
function printNewKey(out: Output, created: CreatedKey, extra: readonly (readonly [string, string | undefined])[] = []): void {
  if (out.json) {
    out.value(created);
  } else {
    out.out(
      fields([
        ['id', created.id],
        ['name', created.name],
        ['scopes', created.scopes.join(' ')],
        ['plan', created.plan],
        ['created', formatTime(created.createdAt)],
        ['expires', formatTime(created.expiresAt)],
        ['rotated from', created.rotatedFrom],
        ...extra,
        ['key', created.key],
      ]),
    );
  }
  out.notice('warning', 'WARNING: this is the only time the key is shown. Store it now (e.g. in a secret manager); it cannot be retrieved again.');
}

async function create(context: CommandContext, command: Command, options: CreateOptions): Promise<void> {
  const { client, out } = await context.authedClient(command);
  const created = await client.createKey({
    name: options.name,
    scopes: options.scopes,
    ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}),
    ...(options.plan ? { plan: options.plan } : {}),
  });
  printNewKey(out, created);
}

async function list(context: CommandContext, command: Command, options: ListOptions): Promise<void> {
  const { client, out } = await context.authedClient(command);
  let keys: KeyView[];
  let nextToken: string | undefined;
  if (options.all) {
    keys = [];
    for await (const key of client.allKeys(options.limit ? { limit: options.limit } : {})) keys.push(key);
  } else {
    const page = await client.listKeys({ ...(options.limit ? { limit: options.limit } : {}), ...(options.nextToken ? { nextToken: options.nextToken } : {}) });
    keys = page.keys;
    nextToken = page.nextToken;
  }
  if (out.json) {
    out.value({ keys, ...(nextToken ? { nextToken } : {}) });
    return;
  }
  if (keys.length === 0) out.out(line('No keys.'));
  else {
    out.out(
      table([
        ['ID', 'NAME', 'STATUS', 'CREATED', 'EXPIRES', 'SCOPES'],
        ...keys.map((k) => [k.id, k.name, k.status, formatTime(k.createdAt), formatTime(k.expiresAt), k.scopes.join(' ')]),
      ]),
    );
  }
  if (nextToken) out.notice('more', `More keys: add --next-token ${nextToken} (or use --all).`, { nextToken });
}

async function get(context: CommandContext, command: Command, keyId: string): Promise<void> {
  const { client, out } = await context.authedClient(command);
  const key = await client.getKey(keyId);
  if (out.json) {
    out.value(key);
    return;
  }
  out.out(
    fields([
      ['id', key.id],
      ['prefix', key.prefix],
      ['name', key.name],
      ['status', key.status],
      ['scopes', key.scopes.join(' ')],
      ['plan', key.plan],
      ['created', `${formatTime(key.createdAt)} by ${key.createdBy}`],
      ['expires', formatTime(key.expiresAt)],
      ['revoked', key.revokedAt ? formatTime(key.revokedAt) : undefined],
      ['grace until', key.graceUntil ? formatTime(key.graceUntil) : undefined],
      ['rotated to', key.rotatedTo],
      ['rotated from', key.rotatedFrom],
    ]),
  );
}

async function revoke(context: CommandContext, command: Command, keyId: string): Promise<void> {
  const { client, out } = await context.authedClient(command);
  await client.revokeKey(keyId);
  if (out.json) out.value({ id: keyId, revoked: true });
  else out.out(line(`Revoked key ${keyId}. Requests made with it are refused within 5 s.`));
}

async function setPlan(context: CommandContext, command: Command, keyId: string, plan: string): Promise<void> {
  const { client, out } = await context.authedClient(command);
  const key = await client.setKeyPlan(keyId, plan);
  if (out.json) out.value(key);
  else out.out(line(`Key ${keyId} is on plan ${key.plan}. The gateway applies it within its decision cache TTL (at most 5 s).`));
}

async function rotate(context: CommandContext, command: Command, keyId: string, options: { gracePeriod?: number }): Promise<void> {
  const { client, out } = await context.authedClient(command);
  const created = await client.rotateKey(keyId, options.gracePeriod === undefined ? {} : { gracePeriodSeconds: options.gracePeriod });
  const grace = options.gracePeriod ?? 0;
  printNewKey(out, created, [['old key', grace > 0 ? `${keyId} keeps working for ${formatDuration(grace * 1000)}` : `${keyId} no longer works`]]);
}

export function registerKeys(program: Command, context: CommandContext): void {
  const keys = program.command('keys').description('manage API keys of your tenant');
  keys
    .command('create')
    .description('create an API key (its plaintext is printed once)')
    .requiredOption('--name <name>', 'a name to recognise it by')
    .requiredOption('--scopes <scopes>', `comma-separated, a subset of yours: ${ALL_SCOPES.join(',')}`, parseScopes)
    .option('--expires-at <time>', 'ISO 8601 time, e.g. 2030-01-01T00:00:00Z (default: never)')
    .option('--plan <plan>', "the key's plan, one within your own (default: the deployment's default plan)")
    .action((options: CreateOptions, command: Command) => create(context, command, options));
  keys
    .command('list')
    .description("list your tenant's keys, newest first")
    .option('--limit <n>', 'page size (1-100)', parseNonNegativeInt)
    .option('--next-token <token>', 'the next page')
    .option('--all', 'every page')
    .action((options: ListOptions, command: Command) => list(context, command, options));
  keys
    .command('get')
    .description('show one key (never its plaintext)')
    .argument('<keyId>', 'the 12-character key id')
    .action((keyId: string, _options: unknown, command: Command) => get(context, command, keyId));
  keys
    .command('revoke')
    .description('revoke a key: requests made with it are refused within 5 s; revoking it again changes nothing')
    .argument('<keyId>', 'the 12-character key id')
    .action((keyId: string, _options: unknown, command: Command) => revoke(context, command, keyId));
  keys
    .command('plan')
    .description("put a key on another plan (one within your own; see GET /openapi.json and docs/plans.md)")
    .argument('<keyId>', 'the 12-character key id')
    .argument('<plan>', 'the plan name')
    .action((keyId: string, plan: string, _options: unknown, command: Command) => setPlan(context, command, keyId, plan));
  keys
    .command('rotate')
    .description('replace a key with a new one (printed once)')
    .argument('<keyId>', 'the 12-character key id')
    .option('--grace-period <seconds>', 'how long the old key keeps working (0-86400, default 0)', parseNonNegativeInt)
    .action((keyId: string, options: { gracePeriod?: number }, command: Command) => rotate(context, command, keyId, options));
}
