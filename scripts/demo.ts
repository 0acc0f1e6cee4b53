// `npm run demo`: the test CSI driver on a temporary socket and the sidecar
// against it, both as real processes. Lines typed here go to the driver, so
// its behaviour can be changed live: {"ready":"false"}, {"hangProbe":true},
// {"probeError":"UNAVAILABLE"}, {"exit":0}. Ctrl-C stops both.
//
// Options: --port N (default 9808), any further arguments go to the sidecar.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import { DRIVER_SCRIPT } from './test-driver-path';

const ROOT = path.resolve(__dirname, '..', '..');

const SIDECAR = path.join(ROOT, 'bin', 'csi-livenessprobe.js');

const { values, positionals } = parseArgs({ options: { port: { type: 'string', default: '9808' } }, allowPositionals: true });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-demo-'));
const socketPath = path.join(dir, 'csi.sock');
const children: ChildProcess[] = [];

function stopAll(code: number): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  fs.rmSync(dir, { recursive: true, force: true });
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2000).unref();
}

// Own process groups: Ctrl-C reaches only this script, which then stops each child once with SIGTERM.
const driver = spawn(process.execPath, [DRIVER_SCRIPT, '--socket', socketPath, '--name', 'demo.csi.example.com'], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
children.push(driver);
readline.createInterface({ input: driver.stdout! }).on('line', (line) => {
  if (!line.includes('"event":"call"')) process.stdout.write(`[driver] ${line}\n`);
});

const sidecarArgs = [`--csi-address=${socketPath}`, `--http-endpoint=127.0.0.1:${values.port}`, '-v=5', ...positionals];
const sidecar = spawn(process.execPath, [SIDECAR, ...sidecarArgs], { stdio: ['ignore', 'inherit', 'pipe'], detached: true });
children.push(sidecar);
readline.createInterface({ input: sidecar.stderr! }).on('line', (line) => {
  process.stderr.write(`[sidecar] ${line}\n`);
  if (line.includes('"CSI driver name"')) {
    process.stdout.write(
      `\nThe sidecar is serving. Try:\n  curl -i http://127.0.0.1:${values.port}/healthz\n\n` +
        `Type a JSON line here to change the driver: {"ready":"false"}  {"ready":"true"}  {"probeDelayMs":5000}\n` +
        `  {"probeError":"UNAVAILABLE"}  {"probeError":""}  {"hangProbe":true}  {"exit":1}\nCtrl-C stops both.\n\n`,
    );
  }
});

sidecar.on('exit', (code) => {
  process.stdout.write(`sidecar exited with code ${code}\n`);
  stopAll(code ?? 1);
});
driver.on('exit', (code) => process.stdout.write(`driver exited with code ${code}; the sidecar now reports it down\n`));
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() !== '' && driver.exitCode === null) driver.stdin!.write(line + '\n');
});
process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));
