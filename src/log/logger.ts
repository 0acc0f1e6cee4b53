// The logger the sidecar's parts share: klog-style calls (info, warning,
// error with an error value, info gated by -v) written as text or JSON lines.

import { callerOf } from './caller';
import { formatJsonLine } from './json-line';
import { formatKlogLine } from './klog-text';
import { LogEntry, Severity } from './log-entry';

export type Fields = Readonly<Record<string, unknown>>;

/** A stream Node may buffer for; writableLength is what it holds not yet written. */
type LogStream = NodeJS.WritableStream & { readonly writableLength?: number };

/**
 * Bytes of log lines held for a sink slower than the log rate (a stderr pipe
 * whose reader lags): about 250 lines. Node would buffer without limit (37 MB
 * in 2 s, measured); past this, lines are dropped and counted, and once the
 * sink drains one line says how many were lost. Go's klog blocks instead.
 */
const MAX_QUEUED_LOG_BYTES = 64 * 1024;

export interface LoggerOptions {
  readonly format: 'text' | 'json';
  readonly verbosity: number;
  /** Info and warning lines to `infoStream`, errors to `errorStream`; both default to stderr. */
  readonly infoStream?: LogStream;
  readonly errorStream?: LogStream;
}

function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function errorText(err: unknown): string | undefined {
  return err === undefined ? undefined : err instanceof Error ? err.message : String(err);
}

export class Logger {
  private readonly formatLine: (entry: LogEntry) => string;
  private readonly infoStream: LogStream;
  private readonly errorStream: LogStream;
  /** Lines dropped since the last report. Invariant: > 0 only while waiting for a stream's 'drain'. */
  private droppedLines = 0;
  /** Told of every dropped line (the metrics counter). */
  onLineDropped: (() => void) | undefined;

  constructor(private readonly options: LoggerOptions) {
    this.formatLine = options.format === 'json' ? formatJsonLine : formatKlogLine;
    this.infoStream = options.infoStream ?? process.stderr;
    this.errorStream = options.errorStream ?? process.stderr;
  }

  /** Whether lines at this -v level are written; check before building costly fields. */
  enabled(level: number): boolean {
    return level <= this.options.verbosity;
  }

  // Each method names its caller "csi/file.ts:line" (text lines show "file.ts:line", as klog). The bundle calls the *From
  // methods with the caller written in at build time (scripts/log-callers.ts); the others
  // find it from the stack (the tsc build in dist/: ./caller.ts).

  info(message: string, fields: Fields = {}): void {
    this.write('I', 0, message, undefined, fields, this.info);
  }

  /** info() from `caller` ("csi/connection.ts:118"). */
  infoFrom(caller: string, message: string, fields: Fields = {}): void {
    this.write('I', 0, message, undefined, fields, caller);
  }

  /** Info at a -v level: written only when --v is at least `level`. */
  infoAt(level: number, message: string, fields: Fields = {}): void {
    if (this.enabled(level)) this.write('I', level, message, undefined, fields, this.infoAt);
  }

  /** infoAt() from `caller` ("csi/connection.ts:118"). */
  infoAtFrom(caller: string, level: number, message: string, fields: Fields = {}): void {
    if (this.enabled(level)) this.write('I', level, message, undefined, fields, caller);
  }

  warning(message: string, fields: Fields = {}): void {
    this.write('W', 0, message, undefined, fields, this.warning);
  }

  /** warning() from `caller` ("csi/connection.ts:118"). */
  warningFrom(caller: string, message: string, fields: Fields = {}): void {
    this.write('W', 0, message, undefined, fields, caller);
  }

  /** An error line; `err` may be undefined for a failure without an error value (klog's ErrorS(nil, ...)). */
  error(err: unknown, message: string, fields: Fields = {}): void {
    this.write('E', 0, message, errorText(err), fields, this.error);
  }

  /** error() from `caller` ("csi/connection.ts:118"). */
  errorFrom(caller: string, err: unknown, message: string, fields: Fields = {}): void {
    this.write('E', 0, message, errorText(err), fields, caller);
  }

  /** `caller`: the caller's text, or the log method whose caller the stack names. */
  private write(severity: Severity, verbosity: number, message: string, error: string | undefined, fields: Fields, caller: string | Function): void {
    const stream = severity === 'E' ? this.errorStream : this.infoStream;
    // Checked first: a line that is dropped costs no stack capture and no formatting.
    if ((stream.writableLength ?? 0) > MAX_QUEUED_LOG_BYTES) {
      this.dropLine(stream);
      return;
    }
    const entry: LogEntry = {
      severity,
      timeMicros: nowMicros(),
      pid: process.pid,
      caller: typeof caller === 'string' ? caller : callerOf(caller),
      message,
      error,
      fields: Object.entries(fields),
      verbosity,
    };
    stream.write(this.formatLine(entry));
  }

  private dropLine(stream: LogStream): void {
    this.onLineDropped?.();
    this.droppedLines += 1;
    if (this.droppedLines > 1) return; // already waiting for the sink
    stream.once('drain', () => {
      const dropped = this.droppedLines;
      this.droppedLines = 0;
      this.warning('Log lines dropped: the log output did not keep up', { dropped });
    });
  }
}
