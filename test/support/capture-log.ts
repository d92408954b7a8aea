/** A Log that keeps every line, so tests can assert what was (and was not) logged. */
import type { Log } from '../../lambdas/core/log.js';

export interface CapturedLog extends Log {
  lines: { level: string; message: string; extra: Record<string, unknown>[] }[];
  text(): string;
}

export function captureLog(): CapturedLog {
  const lines: CapturedLog['lines'] = [];
  const at = (level: string) => (message: string, ...extra: Record<string, unknown>[]) => void lines.push({ level, message, extra });
  return {
    lines,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => JSON.stringify(lines, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v)),
  };
}
