// Tells operators that connections are being shed, without a log line per
// connection: under a flood that would be thousands of lines a second. The
// first shed connection is logged at once; after that one summary line per
// window while shedding goes on. No timer runs while nothing is shed.

import type { Logger } from '../log/logger';
import type { MetricsRecorder } from '../metrics/recorder';
import { SHED_REASONS, ShedReason } from './connection-budget';

const SHED_REPORT_WINDOW_MS = 10_000;

export class ShedReport {
  private readonly counts = new Map<ShedReason, number>();
  /** Invariant: set while a window is open, i.e. within SHED_REPORT_WINDOW_MS of the last line written. */
  private window: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: MetricsRecorder | undefined,
    private readonly maxConnections: number,
  ) {}

  record(reason: ShedReason): void {
    this.metrics?.httpConnectionShed(reason);
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (!this.window) this.writeLine();
  }

  private writeLine(): void {
    if (this.counts.size === 0) {
      this.window = undefined;
      return;
    }
    const fields: Record<string, unknown> = { budget: this.maxConnections };
    for (const reason of SHED_REASONS) {
      const count = this.counts.get(reason);
      if (count) fields[reason] = count;
    }
    this.counts.clear();
    this.logger.warning('Closed HTTP connections early', fields);
    this.window = setTimeout(() => this.writeLine(), SHED_REPORT_WINDOW_MS).unref();
  }
}
