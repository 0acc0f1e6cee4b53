// `npm run demo` (scripts/demo.ts) as a person uses it (issue #35): the demo process with the
// test driver and the sidecar it starts, lines typed to its stdin, the sidecar asked over HTTP.

import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { test, TestContext } from 'node:test';
import { ChildExit, killAndWait, watchExit } from '../../bench/child-exit';
import { httpRequest, HttpResult } from '../helpers/http';
import { LineCollector } from '../helpers/lines';

const DEMO_SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'demo.js');
const START_TIMEOUT_MS = 15_000;

/** A loopback port nothing listens on (the kernel's pick, released again). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

class Demo {
  readonly stdout: LineCollector;
  readonly stderr: LineCollector;
  readonly exited: Promise<ChildExit>;
  private constructor(readonly process: ChildProcess) {
    this.stdout = new LineCollector(process.stdout!);
    this.stderr = new LineCollector(process.stderr!);
    this.exited = watchExit(process);
  }

  /** Starts `npm run demo -- <args>`'s script; Ctrl-C'd (SIGINT) after the test. */
  static spawn(t: TestContext, args: readonly string[]): Demo {
    const demo = new Demo(spawn(process.execPath, [DEMO_SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    t.after(() => demo.stop());
    return demo;
  }

  /** Starts the demo on a free port and waits until it says the sidecar serves. */
  static async start(t: TestContext, args: readonly string[] = []): Promise<{ demo: Demo; port: number }> {
    const port = await freePort();
    const demo = Demo.spawn(t, ['--port', String(port), ...args]);
    await demo.stdout.waitForLine(/^The sidecar is serving/, START_TIMEOUT_MS);
    return { demo, port };
  }

  type(line: string): void {
    this.process.stdin!.write(line + '\n');
  }

  /** Ctrl-C, as a person stops it; SIGKILL if it does not end within 10 s. */
  async stop(): Promise<ChildExit> {
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 10_000);
    try {
      return await killAndWait(this.process, this.exited, 'SIGINT');
    } finally {
      clearTimeout(timer);
    }
  }

  get output(): string {
    return `stdout:\n${this.stdout.text}\nstderr:\n${this.stderr.text}`;
  }
}

/** Asks /healthz until it answers `status` (the sidecar's check follows the driver), failing after `timeoutMs`. */
async function waitForHealth(port: number, status: number, timeoutMs = 10_000): Promise<HttpResult> {
  const deadline = Date.now() + timeoutMs;
  let last: HttpResult | Error | undefined;
  while (Date.now() < deadline) {
    try {
      last = await httpRequest(`http://127.0.0.1:${port}/healthz`);
      if (last.status === status) return last;
    } catch (err) {
      last = err as Error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`/healthz did not answer ${status} within ${timeoutMs} ms; last: ${last instanceof Error ? last.message : `${last?.status} ${last?.body}`}`);
}

test('demo: sidecar flags pass through after the demo\'s --port (--not-ready-grace=20s keeps a not-ready driver passing)', async (t) => {
  const { demo, port } = await Demo.start(t, ['--not-ready-grace=20s']);
  demo.type('{"ready":false}');
  await demo.stdout.waitForLine(/\[driver\] \{"event":"applied".*"ready":"false"/, 5_000);
  const answer = await httpRequest(`http://127.0.0.1:${port}/healthz`);
  assert.equal(answer.status, 200, demo.output);
  await demo.stderr.waitForLine(/^\[sidecar\] W.*"Driver responded but is not ready; \/healthz passes within --not-ready-grace"/, 5_000);
  const exit = await demo.stop();
  assert.equal(exit.code, 0, demo.output);
});

test('demo: Go flag forms of both kinds mix in any order (-port=N, -v 2 as two arguments)', async (t) => {
  const port = await freePort();
  const demo = Demo.spawn(t, ['-v', '2', `-port=${port}`, '--probe-timeout', '3s']);
  await demo.stdout.waitForLine(/^The sidecar is serving/, START_TIMEOUT_MS);
  assert.ok(demo.stdout.text.includes(`curl -i http://127.0.0.1:${port}/healthz`), demo.output);
  assert.equal((await httpRequest(`http://127.0.0.1:${port}/healthz`)).status, 200);
});

for (const [args, problem] of [
  [['--port'], /^demo: --port needs a value: a TCP port, 0-65535; usage: npm run demo -- \[--port N\]/],
  [['--port', 'abc'], /^demo: --port "abc" is not a TCP port \(0-65535\); usage: /],
  [['--port=70000', '--not-ready-grace=20s'], /^demo: --port "70000" is not a TCP port \(0-65535\); usage: /],
] as const) {
  test(`demo: bad demo argument ${args.join(' ')} -> one usage line, exit 2, no stack`, async (t) => {
    const demo = Demo.spawn(t, args);
    const exit = await demo.exited;
    assert.equal(exit.code, 2, demo.output);
    assert.equal(demo.stderr.lines.filter((line) => line !== '').length, 1, demo.output);
    assert.match(demo.stderr.text, problem);
    assert.equal(demo.stdout.text, '');
  });
}

test('demo: --help prints the demo\'s usage and exits 0; a sidecar flag that ends it (--version) ends the demo with its code', async (t) => {
  const help = Demo.spawn(t, ['--help']);
  assert.equal((await help.exited).code, 0, help.output);
  assert.match(help.stdout.text, /^usage: npm run demo -- \[--port N\] .*\n\n--port N: /);
  assert.equal(help.stderr.text, '');
  const version = Demo.spawn(t, ['--port', String(await freePort()), '--version']);
  assert.equal((await version.exited).code, 0, version.output);
  assert.match(version.stdout.text, /^csi-livenessprobe-ts \S+.*\nsidecar exited with code 0\n$/);
});

test('demo: the driver takes JSON booleans as well as strings ({"ready":true} after {"ready":false})', async (t) => {
  const { demo, port } = await Demo.start(t);
  demo.type('{"ready":false}');
  const notReady = await waitForHealth(port, 500);
  assert.match(notReady.body, /driver responded but is not ready/i);
  demo.type('{"ready":true}');
  await waitForHealth(port, 200);
  demo.type('{"ready":"false"}');
  await waitForHealth(port, 500);
  demo.type('{"ready":"true"}');
  await waitForHealth(port, 200);
  demo.type('{"hangProbe":"yes"}');
  await demo.stdout.waitForLine(/\[driver\] \{"event":"error","message":"hangProbe takes true or false, not \\"yes\\""\}/, 5_000);
});

test('demo: after {"exit":1} the demo says how to bring the driver back, and an empty line does', async (t) => {
  const { demo, port } = await Demo.start(t);
  demo.type('{"exit":1}');
  await demo.stdout.waitForLine(/^driver exited with code 1; the sidecar now reports it down/, 5_000);
  await demo.stdout.waitForLine(/^Press Enter \(or type \{"start":true\}\) to start the driver again\.$/, 5_000);
  await waitForHealth(port, 500);
  demo.type('{"ready":false}');
  await demo.stdout.waitForLine(/^the driver is not running: press Enter/, 5_000);
  demo.type('');
  await demo.stdout.waitForLine(/^starting the driver again/, 5_000);
  await waitForHealth(port, 200);
  // And once more with {"start":true}.
  demo.type('{"exit":0}');
  await demo.stdout.waitForLine(/^driver exited with code 0;/, 5_000);
  await waitForHealth(port, 500);
  demo.type('{"start":true}');
  await waitForHealth(port, 200);
  const exit = await demo.stop();
  assert.equal(exit.code, 0, demo.output);
});

for (const format of ['text', 'json']) {
  test(`demo: with its port in use, the demo reports the sidecar's exit and reason, never the driver "down", and exits non-zero (${format} logs)`, async (t) => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    t.after(() => blocker.close());
    const { port } = blocker.address() as net.AddressInfo;
    const demo = Demo.spawn(t, ['--port', String(port), `--logging-format=${format}`]);
    const exit = await demo.exited;
    assert.equal(exit.code, 1, demo.output);
    const exitLine = demo.stdout.lines.find((line) => line.startsWith('sidecar exited'));
    assert.ok(exitLine, demo.output);
    assert.match(exitLine, new RegExp(`^sidecar exited with code 1: Failed to start http server: cannot listen on 127\\.0\\.0\\.1:${port} \\(--http-endpoint\\): address already in use`));
    assert.doesNotMatch(demo.stdout.text, /reports it down|driver exited/);
    assert.ok(demo.stdout.lines.indexOf(exitLine) === demo.stdout.lines.filter((line) => line !== '').length - 1, `the exit line comes last:\n${demo.output}`);
  });
}
