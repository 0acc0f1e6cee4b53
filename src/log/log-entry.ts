// What one log call carries, independent of the output format.

export type Severity = 'I' | 'W' | 'E';

export interface LogEntry {
  readonly severity: Severity;
  /** Microseconds since the Unix epoch. */
  readonly timeMicros: number;
  readonly pid: number;
  /** The log call's source folder, file and line, "csi/connection.ts:118" (JSON as zap; text shows "connection.ts:118"). */
  readonly caller: string;
  readonly message: string;
  /** The error text for error lines (klog's ErrorS err argument); undefined when there is none. */
  readonly error: string | undefined;
  /** Key/value pairs in the order given. */
  readonly fields: readonly (readonly [string, unknown])[];
  /** The -v level the line was logged at (0 for warnings and errors). */
  readonly verbosity: number;
}
