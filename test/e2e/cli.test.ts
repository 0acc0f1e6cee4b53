// Flags, exit codes and start-up failures of the real sidecar process.
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { FakeDriver } from '../helpers/fake-driver';
import packageJson from '../../package.json';
import { hostPlatform } from '../../scripts/image/platforms';
import { runSidecarToExit, Sidecar } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const KLOG_ERROR = /^E\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ [\w.-]+:\d+\] /;

test('--help and -h print usage and exit 0', async () => {
  for (const flag of ['--help', '-h']) {
    const result = await runSidecarToExit([flag]);
    assert.equal(result.code, 0, flag);
    assert.match(result.stderr, /^Usage of csi-livenessprobe:\n/);
    for (const name of ['csi-address string', 'probe-timeout duration', 'not-ready-grace duration', 'health-port string', 'http-endpoint string', 'metrics-address string', 'metrics-path string', 'v value', 'logging-format string']) {
      assert.ok(result.stderr.includes(`\n  -${name}\n`), `usage lists -${name}`);
    }
    assert.ok(result.stderr.includes('(default 3s)'));
  }
});

test('--version prints name, version and node on stdout, exit 0, whatever else is set', async () => {
  for (const args of [['--version'], ['-version=true', '--health-port=1', '--http-endpoint=:2']]) {
    const result = await runSidecarToExit(args);
    assert.equal(result.code, 0, result.stderr);
    // A tsc build does not know its git commit; the bundle does (bundle.test.ts).
    assert.equal(result.stdout, `${packageJson.name} ${packageJson.version}, node ${process.version} linux/${hostPlatform()!.architecture}\n`);
    assert.equal(result.stderr, '');
  }
});

test('unknown flag: Go message, usage, exit 2', async () => {
  const result = await runSidecarToExit(['--bogus']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /^flag provided but not defined: -bogus\nUsage of csi-livenessprobe:\n/);
});

test('bad value and missing argument: Go messages, exit 2', async () => {
  const badValue = await runSidecarToExit(['--probe-timeout=abc']);
  assert.equal(badValue.code, 2);
  assert.match(badValue.stderr, /^invalid value "abc" for flag -probe-timeout: parse error\nUsage of/);
  const missing = await runSidecarToExit(['--csi-address']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^flag needs an argument: -csi-address\n/);
  const badBool = await runSidecarToExit(['--log-text-split-stream=maybe']);
  assert.equal(badBool.code, 2);
  assert.match(badBool.stderr, /^invalid boolean value "maybe" for -log-text-split-stream: parse error\n/);
});

test('issue #28: bad --not-ready-grace values: Go messages, usage, exit 2', async () => {
  const cases: readonly [string, string][] = [
    ['--not-ready-grace=-30s', 'invalid value "-30s" for flag -not-ready-grace: must be 0 or greater'],
    ['--not-ready-grace=soon', 'invalid value "soon" for flag -not-ready-grace: parse error'],
    ['--not-ready-grace=40', 'invalid value "40" for flag -not-ready-grace: parse error'],
  ];
  for (const [arg, message] of cases) {
    const result = await runSidecarToExit([arg]);
    assert.equal(result.code, 2, arg);
    assert.ok(result.stderr.startsWith(`${message}\nUsage of csi-livenessprobe:\n`), result.stderr);
  }
  const missing = await runSidecarToExit(['--not-ready-grace']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^flag needs an argument: -not-ready-grace\n/);
});

test('conflicting flags: one klog error line, exit 1', async () => {
  const cases: readonly [string[], string][] = [
    [['--health-port=9000', '--http-endpoint=:0'], 'Only one of `--health-port` and `--http-endpoint` can be explicitly set'],
    [['--metrics-address=:0', '--http-endpoint=:0'], 'Only one of `--metrics-address` and `--http-endpoint` can be explicitly set'],
  ];
  for (const [argv, message] of cases) {
    const result = await runSidecarToExit(argv);
    assert.equal(result.code, 1, argv.join(' '));
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0], KLOG_ERROR);
    assert.ok(lines[0].endsWith(`] "${message}"`), lines[0]);
  }
});

test('GetPluginInfo error or empty name: exit 1 with the reason', async (t) => {
  const dir = makeTempDir(t);
  const failing = await FakeDriver.start(t, path.join(dir, 'a.sock'), ['--info-error', 'INTERNAL']);
  // A port of its own (0: any free one), so that nothing else on 9808 turns the verdict into a listen failure.
  const errorResult = await runSidecarToExit([`--csi-address=${failing.address}`, '--http-endpoint=127.0.0.1:0']);
  assert.equal(errorResult.code, 1);
  assert.match(errorResult.stderr, /\] "Failed to get CSI driver name" err="rpc error: code = Internal desc = GetPluginInfo failure injected by test"\n$/);

  const nameless = await FakeDriver.start(t, path.join(dir, 'b.sock'), ['--name', '']);
  const emptyResult = await runSidecarToExit([`--csi-address=${nameless.address}`, '--http-endpoint=127.0.0.1:0']);
  assert.equal(emptyResult.code, 1);
  assert.match(emptyResult.stderr, /\] "Failed to get CSI driver name" err="driver name is empty"\n$/);
});

test('port in use: one clear line naming the address, exit 1', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const driver = await FakeDriver.start(t, path.join(makeTempDir(t), 'csi.sock'));
  const result = await runSidecarToExit([`--csi-address=${driver.address}`, `--http-endpoint=127.0.0.1:${port}`]);
  assert.equal(result.code, 1);
  const errors = result.stderr.split('\n').filter((line) => line.startsWith('E'));
  assert.equal(errors.length, 1, result.stderr);
  assert.ok(
    errors[0].endsWith(`] "Failed to start http server" err="cannot listen on 127.0.0.1:${port} (--http-endpoint): address already in use; pick another port or stop the other process"`),
    errors[0],
  );
});

test('old manifest flags are accepted with a warning', async (t) => {
  const driver = await FakeDriver.start(t, path.join(makeTempDir(t), 'csi.sock'));
  const sidecar = await Sidecar.start(t, [`--csi-address=${driver.address}`, '--connection-timeout=3s', '--logtostderr', '-v', '5']);
  assert.match(sidecar.stderr.lines[0], /^W.*\] "Flag --connection-timeout is deprecated and has no effect: the sidecar waits for the driver without a time limit"$/);
  assert.match(sidecar.stderr.lines[1], /^W.*\] "Flag --logtostderr is deprecated and has no effect: logs always go to stderr"$/);
  assert.equal((await sidecar.request()).status, 200);
  await sidecar.stderr.waitForLine(/^I.*\] "Health check succeeded"$/, 5_000);
});

test('-v gates per-check lines at level 5', async (t) => {
  const driver = await FakeDriver.start(t, path.join(makeTempDir(t), 'csi.sock'));
  const quiet = await Sidecar.start(t, [`--csi-address=${driver.address}`, '-v=4']);
  assert.equal((await quiet.request()).status, 200);
  const loud = await Sidecar.start(t, [`--csi-address=${driver.address}`, '--v', '5']);
  assert.equal((await loud.request()).status, 200);
  await loud.stderr.waitForLine(/"Health check succeeded"/, 5_000);
  assert.ok(!quiet.stderr.text.includes('Sending probe request'), quiet.stderr.text);
  assert.match(loud.stderr.text, /\] "Sending probe request to CSI driver" driver="test.csi.example.com"\n/);
});

test('--logging-format=json writes component-base JSON lines; split stream sends info to stdout', async (t) => {
  const driver = await FakeDriver.start(t, path.join(makeTempDir(t), 'csi.sock'), ['--ready', 'false']);
  const sidecar = await Sidecar.start(t, [`--csi-address=${driver.address}`, '--logging-format=json', '--log-json-split-stream']);
  assert.equal((await sidecar.request()).status, 500);
  const errorLine = await sidecar.stderr.waitForLine(/Driver responded but is not ready/, 5_000);
  const error = JSON.parse(errorLine);
  assert.deepEqual(Object.keys(error), ['ts', 'caller', 'msg']);
  assert.equal(typeof error.ts, 'number');
  assert.match(error.caller, /^check\/health-check\.ts:\d+$/);
  const nameLine = await sidecar.stdout.waitForLine(/"msg":"CSI driver name"/, 5_000);
  const info = JSON.parse(nameLine);
  assert.deepEqual(Object.keys(info), ['ts', 'caller', 'msg', 'v', 'driver']);
  assert.equal(info.v, 0);
  assert.equal(info.driver, 'test.csi.example.com');
});
