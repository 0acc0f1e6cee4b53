// Collects a child process stream line by line and waits for lines with a deadline.

import type { Readable } from 'node:stream';

export class LineCollector {
  readonly lines: string[] = [];
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(stream: Readable) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.waiters) wake();
    });
  }

  get text(): string {
    return this.lines.map((line) => `${line}\n`).join('') + this.partial;
  }

  /** Resolves with the first line (from index `from`) matching `pattern`; rejects after `timeoutMs` saying what it waited for. */
  waitForLine(pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const found = this.lines.slice(from).find((line) => pattern.test(line));
        if (found === undefined) return false;
        clearTimeout(timer);
        this.waiters.delete(look);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(look);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; got:\n${this.text}`));
      }, timeoutMs);
      if (!look()) this.waiters.add(look);
    });
  }
}
