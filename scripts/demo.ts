// `npm run demo`: the test CSI driver on a temporary socket and the sidecar
// against it, both as real processes. Lines typed here go to the driver, so
// its behaviour can be changed live: {"ready":false}, {"hangProbe":true},
// {"probeError":"UNAVAILABLE"}, {"exit":1}; after the driver exits, an empty
// line (or {"start":true}) starts it again. Ctrl-C stops both.
//
//   npm run demo -- [--port N] [--help] [sidecar flags...]
//
// --port (default 9808) is the demo's own; every other argument goes to the
// sidecar as given, in Go's flag syntax (--not-ready-grace=20s, -v 2). Demo
// arguments are read by hand: node:util's parseArgs rejects the options it does
// not know, and those are the sidecar's.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { DRIVER_SCRIPT } from './test-driver-path';

const ROOT = path.resolve(__dirname, '..', '..');
const SIDECAR = path.join(ROOT, 'bin', 'csi-livenessprobe.js');
const USAGE = 'usage: npm run demo -- [--port N] [sidecar flags, e.g. --not-ready-grace=20s]';
/** The sidecar's default port, as upstream's --health-port. */
const DEFAULT_PORT = 9808;
/** After Ctrl-C or the sidecar's exit, how long the children get to stop before the demo exits anyway. */
const STOP_LIMIT_MS = 3000;

interface DemoArgs {
  readonly port: number;
  readonly sidecarArgs: readonly string[];
  /** -h, -help or --help: the demo's usage, not the sidecar's. */
  readonly help: boolean;
}

/** The demo's --port (as -port, --port N or --port=N, Go's forms) and every other argument, in order, for the sidecar. */
export function parseDemoArgs(argv: readonly string[]): DemoArgs | { readonly problem: string } {
  let port = DEFAULT_PORT;
  let help = false;
  const sidecarArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (/^(-h|--?help)$/.test(argv[i])) {
      help = true;
      continue;
    }
    const match = /^--?port(?:=(.*))?$/s.exec(argv[i]);
    if (!match) {
      sidecarArgs.push(argv[i]);
      continue;
    }
    const value = match[1] ?? argv[++i];
    if (value === undefined) return { problem: `${argv[i - 1]} needs a value: a TCP port, 0-65535` };
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) return { problem: `--port ${JSON.stringify(value)} is not a TCP port (0-65535)` };
    port = Number(value);
  }
  return { port, sidecarArgs, help };
}

/** Message and error of an error line (klog text or --logging-format=json), for the sidecar's exit reason; undefined for other lines. */
function errorLineReason(line: string): string | undefined {
  if (line.startsWith('{')) {
    try {
      const record = JSON.parse(line) as { msg?: unknown; err?: unknown; v?: unknown };
      if (record.v !== undefined || typeof record.msg !== 'string') return undefined; // error lines alone carry no "v"
      return typeof record.err === 'string' ? `${record.msg}: ${record.err}` : record.msg;
    } catch {
      return undefined;
    }
  }
  const match = /^E\d{4} [\d:.]+ +\d+ \S+\] ("(?:[^"\\]|\\.)*")(?: err=("(?:[^"\\]|\\.)*"))?/.exec(line);
  if (!match) return undefined;
  const unquote = (text: string) => JSON.parse(text) as string;
  return match[2] ? `${unquote(match[1])}: ${unquote(match[2])}` : unquote(match[1]);
}

function main(): void {
  const args = parseDemoArgs(process.argv.slice(2));
  if ('problem' in args) {
    process.stderr.write(`demo: ${args.problem}; ${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  if (args.help) {
    process.stdout.write(
      `${USAGE}\n\n--port N: the sidecar's /healthz port on 127.0.0.1 (default ${DEFAULT_PORT}). Every other argument goes to the\n` +
        `sidecar (its flags: npm start -- --help). Lines typed while the demo runs go to the test driver.\n`,
    );
    return;
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-demo-'));
  const socketPath = path.join(dir, 'csi.sock');
  /** Invariant: true from Ctrl-C or the sidecar's end on; no child is started after, and their ends are expected. */
  let stopping = false;
  let healthUrl = `http://127.0.0.1:${args.port}/healthz`;
  let driver: ChildProcess | undefined;
  let sidecarClosed = false;
  let driverClosed = true;
  /** The last error line the sidecar wrote: why it exited, when it does. */
  let lastSidecarError: string | undefined;

  const finishWhenStopped = (code: number) => {
    if (sidecarClosed && driverClosed) {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    }
  };
  let exitCode = 0;
  const stopAll = (code: number) => {
    if (stopping) return;
    stopping = true;
    exitCode = code;
    if (!sidecarClosed) sidecar.kill('SIGTERM');
    if (driver && !driverClosed) driver.kill('SIGTERM');
    finishWhenStopped(code);
    setTimeout(() => {
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    }, STOP_LIMIT_MS).unref();
  };

  // Own process groups: Ctrl-C reaches only this script, which then stops each child once with SIGTERM.
  const startDriver = () => {
    driverClosed = false;
    const child = spawn(process.execPath, [DRIVER_SCRIPT, '--socket', socketPath, '--name', 'demo.csi.example.com'], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
    driver = child;
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.includes('"event":"call"')) process.stdout.write(`[driver] ${line}\n`);
    });
    // 'close', not 'exit': what it wrote is read first.
    child.on('close', (code, signal) => {
      driverClosed = true;
      if (stopping) return finishWhenStopped(exitCode);
      process.stdout.write(
        `driver exited with ${code === null ? `signal ${signal}` : `code ${code}`}; the sidecar now reports it down (curl -i ${healthUrl}).\n` +
          `Press Enter (or type {"start":true}) to start the driver again.\n`,
      );
    });
  };
  startDriver();

  const sidecarArgs = [`--csi-address=${socketPath}`, `--http-endpoint=127.0.0.1:${args.port}`, '-v=5', ...args.sidecarArgs];
  const sidecar = spawn(process.execPath, [SIDECAR, ...sidecarArgs], { stdio: ['ignore', 'inherit', 'pipe'], detached: true });
  readline.createInterface({ input: sidecar.stderr! }).on('line', (line) => {
    process.stderr.write(`[sidecar] ${line}\n`);
    lastSidecarError = errorLineReason(line) ?? lastSidecarError;
    const listening = /"ServeMux listening" address="([^"]+)"/.exec(line);
    if (listening) healthUrl = `http://${listening[1]}/healthz`;
    if (line.includes('"CSI driver name"')) {
      process.stdout.write(
        `\nThe sidecar is serving. Try:\n  curl -i ${healthUrl}\n\n` +
          `Type a JSON line here to change the driver: {"ready":false}  {"ready":true}  {"probeDelayMs":5000}\n` +
          `  {"probeError":"UNAVAILABLE"}  {"probeError":""}  {"hangProbe":true}  {"exit":1}\n` +
          `After {"exit":1}, press Enter to start the driver again. Ctrl-C stops both.\n\n`,
      );
    }
  });
  sidecar.on('close', (code, signal) => {
    sidecarClosed = true;
    if (stopping) return finishWhenStopped(exitCode);
    const how = code === null ? `signal ${signal}` : `code ${code}`;
    process.stdout.write(`sidecar exited with ${how}${lastSidecarError ? `: ${lastSidecarError}` : ''}\n`);
    stopAll(code ?? 1);
  });

  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (stopping) return;
    const running = driver !== undefined && !driverClosed;
    const wantsStart = line.trim() === '' || /^\s*\{\s*"start"\s*:\s*true\s*\}\s*$/.test(line);
    if (running) {
      if (!wantsStart) driver!.stdin!.write(line + '\n');
      else if (line.trim() !== '') process.stdout.write('the driver is running already\n');
    } else if (wantsStart) {
      process.stdout.write('starting the driver again (with its default behaviour)\n');
      startDriver();
    } else {
      process.stdout.write('the driver is not running: press Enter (or type {"start":true}) to start it again\n');
    }
  });
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
}

if (require.main === module) main();
