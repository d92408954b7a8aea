/**
 * A team's targets on the local stack (lambdas/app.ts): a `lambda` target is its entry module, imported in this
 * process (`.ts` works: the stack runs under tsx) and invoked by the local gateway with the same proxy event a
 * Gatehouse handler group gets; an `http` target is handed to the gateway's HTTP proxy integration as it is.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { HttpTarget, LambdaTarget, Target } from '../lambdas/app.js';
import type { LambdaFunction } from './gateway/gateway.js';
import type { HttpIntegration } from './gateway/http-integration.js';

export class TargetLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetLoadError';
  }
}

export interface LoadedTargets {
  readonly functions: Readonly<Record<string, LambdaFunction<APIGatewayProxyEvent>>>;
  readonly http: Readonly<Record<string, HttpIntegration>>;
  /** Things worth telling the developer (environment variables the shell already sets, and so on). */
  readonly warnings: readonly string[];
}

/** Where a target's entry file is: relative entries are relative to the app declaration's folder. */
export function entryPath(target: Pick<LambdaTarget, 'entry'>, baseDir: string): string {
  return isAbsolute(target.entry) ? target.entry : resolve(baseDir, target.entry);
}

/**
 * A Lambda function's own timeout: past it, Lambda stops the function and reports an error, which API Gateway
 * answers with a 502 (the gateway's own, longer, integration timeout is a 504).
 */
function withFunctionTimeout(fn: LambdaFunction<APIGatewayProxyEvent>, seconds: number | undefined): LambdaFunction<APIGatewayProxyEvent> {
  if (seconds === undefined) return fn;
  return (event, context) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${seconds} seconds`)), seconds * 1000);
    });
    return Promise.race([fn(event, context), timedOut]).finally(() => clearTimeout(timer));
  };
}

/**
 * The target's environment, as Lambda would set it: one process serves every target, so a variable is set once
 * for all of them. The developer's shell wins (pointing a function at local resources), and two targets that
 * disagree are reported rather than silently mixed.
 */
function applyEnvironment(name: string, target: LambdaTarget, claimed: Map<string, { target: string; value: string }>, warnings: string[]): void {
  for (const [key, value] of Object.entries(target.environment ?? {})) {
    const earlier = claimed.get(key);
    if (earlier && earlier.value !== value) {
      warnings.push(`Targets ${earlier.target} and ${name} set ${key} differently; locally both see ${earlier.target}'s value (one process serves both).`);
      continue;
    }
    claimed.set(key, { target: name, value });
    if (process.env[key] === undefined) process.env[key] = value;
    else if (process.env[key] !== value) warnings.push(`Target ${name}: ${key} is taken from your environment, not from its declaration.`);
  }
}

async function loadFunction(name: string, target: LambdaTarget, baseDir: string): Promise<LambdaFunction<APIGatewayProxyEvent>> {
  const file = entryPath(target, baseDir);
  if (!existsSync(file)) throw new TargetLoadError(`Target ${name}: its entry ${file} does not exist (entries are relative to the app file's folder)`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new TargetLoadError(`Target ${name}: importing ${file} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const exportName = target.handler ?? 'handler';
  const fn = module[exportName];
  if (typeof fn !== 'function') throw new TargetLoadError(`Target ${name}: ${file} has no exported function \`${exportName}\``);
  // Whatever the module's handler returns (or throws) crosses the Lambda boundary as it would in AWS.
  const handler = (event: APIGatewayProxyEvent, context: Parameters<LambdaFunction<APIGatewayProxyEvent>>[1]): Promise<unknown> =>
    Promise.resolve().then(() => (fn as (e: APIGatewayProxyEvent, c: typeof context) => unknown)(event, context));
  return withFunctionTimeout(handler, target.timeoutSeconds);
}

function httpIntegration(target: HttpTarget): HttpIntegration {
  return { url: target.url, ...(target.timeoutMs === undefined ? {} : { timeoutMs: target.timeoutMs }) };
}

/** Every target of an app, ready for the gateway; throws {@link TargetLoadError} naming the target and the fix. */
export async function loadTargets(targets: Readonly<Record<string, Target>>, baseDir: string): Promise<LoadedTargets> {
  const functions: Record<string, LambdaFunction<APIGatewayProxyEvent>> = {};
  const http: Record<string, HttpIntegration> = {};
  const warnings: string[] = [];
  const claimed = new Map<string, { target: string; value: string }>();
  for (const [name, target] of Object.entries(targets)) {
    if (target.kind === 'http') {
      http[name] = httpIntegration(target);
    } else {
      applyEnvironment(name, target, claimed, warnings);
      functions[name] = await loadFunction(name, target, baseDir);
    }
  }
  return { functions, http, warnings };
}
