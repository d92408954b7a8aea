/**
 * Where a command's words go. Results go to stdout (JSON with `--json`); everything else — progress, warnings,
 * prompts, errors — goes to stderr, and with `--json` every stderr line is one JSON object, so a script can read
 * stderr line by line: `{"event": …, "message": …}` for notices (see {@link Output.notice}), `{"error": …}` for the
 * failure (errors.ts).
 */
import { line } from './format.js';
import type { CliIo } from './io.js';

export class Output {
  constructor(
    private readonly io: Pick<CliIo, 'stdout' | 'stderr'>,
    readonly json: boolean,
  ) {}

  /** Raw text on stdout (the command's result). */
  out(text: string): void {
    this.io.stdout(text);
  }

  /** A value on stdout, pretty-printed JSON. */
  value(value: unknown): void {
    this.io.stdout(line(JSON.stringify(value, null, 2)));
  }

  /**
   * A notice on stderr. People read `text` (default: `message`), which may span lines; with `--json` it is one line
   * `{"event", "message", ...data}` instead, `message` being the same words.
   */
  notice(event: string, message: string, data: Readonly<Record<string, unknown>> = {}, text?: string): void {
    this.io.stderr(this.json ? line(JSON.stringify({ event, message, ...data })) : (text ?? line(message)));
  }

  /** The one error line on stderr (already made safe by the caller). */
  error(human: string, json: Readonly<Record<string, unknown>>): void {
    this.io.stderr(this.json ? line(JSON.stringify({ error: json })) : human);
  }
}
