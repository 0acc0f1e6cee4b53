// A trusted implementation run as a child process that answers one JSON line
// per JSON line it reads (the Go and Python oracles beside this file). One
// question at a time; a question not answered within ANSWER_TIMEOUT_MS, or an
// oracle that exits, fails the comparison with what it printed on stderr.

import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import * as readline from 'node:readline';

/** An oracle answers in microseconds; this only catches a hung or crashed one. */
const ANSWER_TIMEOUT_MS = 10_000;
/** The oracle's stderr kept for error messages. */
const MAX_STDERR_CHARS = 4_096;

export class OracleProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  private exited: string | undefined;

  /** Starts `command` with `args`; throws on the first question if it cannot run. */
  constructor(
    private readonly name: string,
    command: string,
    args: readonly string[] = [],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text: string) => (this.stderr = (this.stderr + text).slice(-MAX_STDERR_CHARS)));
    this.child.on('error', (err) => (this.exited = err.message));
    // An oracle that dies mid-question breaks the pipe: report it on the next question, do not crash the run.
    this.child.stdin.on('error', (err) => (this.exited ??= `stopped reading its input (${err.message})`));
    this.child.on('exit', (code, signal) => (this.exited ??= `exited with ${signal ?? code}`));
    this.lines = readline.createInterface({ input: this.child.stdout, crlfDelay: Infinity })[Symbol.asyncIterator]();
  }

  /** Sends `question` as one JSON line; resolves with the parsed answer line. */
  async ask<A>(question: unknown): Promise<A> {
    if (this.exited) throw new Error(`oracle ${this.name} ${this.exited}: ${this.stderr}`);
    this.child.stdin.write(`${JSON.stringify(question)}\n`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`oracle ${this.name} did not answer within ${ANSWER_TIMEOUT_MS} ms: ${this.stderr}`)), ANSWER_TIMEOUT_MS);
    });
    try {
      const next = await Promise.race([this.lines.next(), timeout]);
      if (next.done) throw new Error(`oracle ${this.name} ${this.exited ?? 'closed its output'}: ${this.stderr}`);
      return JSON.parse(next.value) as A;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the oracle (closing its input) and waits for it to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2_000);
    await exited;
    clearTimeout(timer);
  }
}
