// Hostile HTTP clients, in a process of their own, and a kubelet-style probe
// loop to run beside them: what the e2e tests and `npm run bench` use to check
// that nothing a client does keeps the kubelet's probe from being answered.
//
// Run as a program: node attackers.js <port> <connections> <mode> ; it holds
// that many connections, opens a new one whenever one is closed, and prints
// one JSON line {"open":N,"opened":N,"answers":N} a second.

import { ChildProcess, spawn } from 'node:child_process';
import * as http from 'node:http';
import * as net from 'node:net';
import * as readline from 'node:readline';

/**
 * idle:       connect and send nothing
 * half-head:  half a request head, then nothing (slowloris)
 * slow-body:  a whole head announcing a 1,000-byte body, then a byte a second
 * mixed:      the three above in turn
 * pipeline:   pipelined GET /healthz as fast as the socket takes them; never reads an answer
 * flood:      complete requests (/healthz and /healthz?verbose in turn), 4 ahead of their answers, as fast as answered
 * repeat:     keep-alive, one GET /healthz in flight at all times: the next sent as soon as an answer arrives
 * churn:      a new connection per GET /healthz with `Connection: close`, as the kubelet sends it, re-opened as
 *             soon as it closes (answered or not)
 */
export type AttackMode = 'idle' | 'half-head' | 'slow-body' | 'mixed' | 'pipeline' | 'flood' | 'repeat' | 'churn';
export const ATTACK_MODES: readonly AttackMode[] = ['idle', 'half-head', 'slow-body', 'mixed', 'pipeline', 'flood', 'repeat', 'churn'];
const FLOOD_DEPTH = 4;
const FLOOD_REQUESTS = ['GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /healthz?verbose HTTP/1.1\r\nHost: x\r\n\r\n'];
const REPEATED_REQUEST = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
const CHURNED_REQUEST = 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** Answers that begin in `chunk`: every answer starts with its status line; bodies never hold one. */
const countAnswers = (chunk: Buffer) => chunk.toString('latin1').split('HTTP/1.1 ').length - 1;

const PIPELINED_BATCH = Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz?verbose HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(100));

function openAttackConnection(port: number, mode: Exclude<AttackMode, 'mixed'>, onOpen: () => void, onClose: () => void, onAnswers: (count: number) => void): void {
  const socket = net.connect(port, '127.0.0.1');
  let trickle: NodeJS.Timeout | undefined;
  socket.on('connect', () => {
    onOpen();
    if (mode === 'half-head') socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    if (mode === 'slow-body') {
      socket.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
      trickle = setInterval(() => socket.write('a'), 1_000);
    }
    if (mode === 'pipeline') {
      const pump = () => {
        while (socket.writable && socket.write(PIPELINED_BATCH));
      };
      socket.on('drain', pump);
      pump();
    }
    if (mode === 'flood') {
      let sent = 0;
      const send = () => socket.write(FLOOD_REQUESTS[sent++ % FLOOD_REQUESTS.length]);
      for (let i = 0; i < FLOOD_DEPTH; i++) send();
      socket.on('data', (chunk: Buffer) => {
        const answers = countAnswers(chunk);
        onAnswers(answers);
        for (let i = 0; i < answers; i++) send();
      });
    }
    if (mode === 'repeat') {
      socket.write(REPEATED_REQUEST);
      socket.on('data', (chunk: Buffer) => {
        const answers = countAnswers(chunk);
        onAnswers(answers);
        for (let i = 0; i < answers; i++) socket.write(REPEATED_REQUEST);
      });
    }
    if (mode === 'churn') {
      socket.write(CHURNED_REQUEST);
      socket.on('data', (chunk: Buffer) => onAnswers(countAnswers(chunk)));
    }
  });
  if (mode === 'pipeline') socket.pause();
  else socket.resume(); // read and drop answers
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clearInterval(trickle);
    onClose();
  });
}

function runAttackers(port: number, connections: number, mode: AttackMode): void {
  let open = 0;
  let opened = 0;
  let answers = 0;
  const modes: Exclude<AttackMode, 'mixed'>[] = mode === 'mixed' ? ['idle', 'half-head', 'slow-body'] : [mode];
  const openOne = (index: number) =>
    openAttackConnection(
      port,
      modes[index % modes.length],
      () => {
        open += 1;
        opened += 1;
      },
      () => {
        if (open > 0) open -= 1;
        setImmediate(() => openOne(index)); // re-open at once, as an attacker would
      },
      (count) => (answers += count),
    );
  for (let i = 0; i < connections; i++) openOne(i);
  setInterval(() => process.stdout.write(`${JSON.stringify({ open, opened, answers })}\n`), 1_000);
}

export interface Attack {
  /** Connections open now, as the attacking process last reported. */
  readonly open: () => number;
  /** Answers the attackers have read (flood, repeat and churn modes), as last reported. */
  readonly answers: () => number;
  /** Waits until at least `count` connections are open. */
  waitUntilOpen(count: number, timeoutMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the attackers in a child process (it needs its own file descriptors and event loop). */
export function startAttack(port: number, connections: number, mode: AttackMode): Attack {
  const child: ChildProcess = spawn(process.execPath, [__filename, String(port), String(connections), mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let open = 0;
  let answers = 0;
  const waiters: (() => void)[] = [];
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    ({ open, answers } = JSON.parse(line) as { open: number; answers: number });
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    open: () => open,
    answers: () => answers,
    async waitUntilOpen(count, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (open < count) {
        if (Date.now() > deadline) throw new Error(`attackers had ${open} of ${count} connections open after ${timeoutMs} ms`);
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface ProbeResult {
  /** HTTP status, or 0 when there was no answer. */
  readonly status: number;
  readonly latencyMs: number;
  readonly error?: string;
}

/** One probe as the kubelet sends it: a new connection, `Connection: close`, a time limit. */
export function kubeletProbe(url: string, timeoutMs: number): Promise<ProbeResult> {
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, headers: { Connection: 'close', 'User-Agent': 'kube-probe/1.31' } }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, latencyMs: performance.now() - startedAt }));
    });
    request.setTimeout(timeoutMs, () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (err) => resolve({ status: 0, latencyMs: performance.now() - startedAt, error: err.message }));
  });
}

/** Probes every `intervalMs` for `durationMs` (each with `timeoutMs`); resolves with every result. */
export async function probeLoop(url: string, durationMs: number, intervalMs: number, timeoutMs: number): Promise<ProbeResult[]> {
  const pending: Promise<ProbeResult>[] = [];
  const endAt = performance.now() + durationMs;
  while (performance.now() < endAt) {
    pending.push(kubeletProbe(url, timeoutMs));
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return Promise.all(pending);
}

if (require.main === module) {
  const [port, connections, mode] = process.argv.slice(2);
  if (!ATTACK_MODES.includes(mode as AttackMode)) throw new Error(`mode must be one of ${ATTACK_MODES.join(', ')}`);
  runAttackers(Number(port), Number(connections), mode as AttackMode);
}
