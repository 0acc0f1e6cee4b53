// The sidecar and the test driver as real processes, over a real unix socket and real HTTP.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test, TestContext } from 'node:test';
import { DRIVER_STACKS, DriverStack, FakeDriver } from '../helpers/fake-driver';
import { startDriverAndSidecar } from '../helpers/pair';
import { Sidecar } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

// Wide margin between "failed fast" and "waited for the probe timeout"; the
// product target (50 ms) is measured in `npm run bench`, not here.
const LONG_PROBE_TIMEOUT = '--probe-timeout=20s';
const FAST_FAILURE_BOUND_MS = 1_000;

const startPair = (t: TestContext, stack: DriverStack, driverArgs: string[] = [], sidecarArgs: string[] = []) =>
  startDriverAndSidecar(t, { driverArgs, sidecarArgs, stack });

// Every scenario runs against the test driver on each gRPC stack (issue #12): grpc-js, grpc-go and C-core.
for (const stack of DRIVER_STACKS) {
  describe(`driver on ${stack}`, () => {
    test('healthy driver: 200 ok', async (t) => {
      const { sidecar, driver } = await startPair(t, stack);
      const result = await sidecar.request();
      assert.equal(result.status, 200);
      assert.equal(result.body, 'ok');
      assert.equal(result.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(driver.calls('GetPluginInfo'), 1);
      assert.equal(driver.calls('Probe'), 1);
      assert.match(sidecar.stderr.text, /\] "CSI driver name" driver="test.csi.example.com"/);
    });

    test('one connection serves every check (no dial per request)', async (t) => {
      const { sidecar } = await startPair(t, stack, [], ['-v=3']);
      for (let i = 0; i < 5; i++) assert.equal((await sidecar.request()).status, 200);
      const connects = sidecar.stderr.lines.filter((line) => line.includes('transition="CONNECTING -> READY"'));
      assert.equal(connects.length, 1, sidecar.stderr.text);
    });

    test('issue #68: socket removed after a good check fails the very next check', async (t) => {
      const { sidecar, socketPath } = await startPair(t, stack, [], [LONG_PROBE_TIMEOUT]);
      assert.equal((await sidecar.request()).status, 200);
      fs.rmSync(socketPath); // the driver process keeps running and would still answer the old connection
      const result = await sidecar.request();
      assert.equal(result.status, 500);
      assert.equal(result.body, `rpc error: code = Unavailable desc = connect ENOENT ${socketPath} (the CSI driver socket does not exist)`);
      assert.ok(result.elapsedMs < FAST_FAILURE_BOUND_MS, `took ${result.elapsedMs} ms`);
    });

    test('driver killed with SIGKILL: 500 with the reason, then 200 once restarted on the same path', async (t) => {
      const { sidecar, driver, socketPath } = await startPair(t, stack, [], [LONG_PROBE_TIMEOUT]);
      assert.equal((await sidecar.request()).status, 200);
      await driver.kill('SIGKILL');
      const failed = await sidecar.request();
      assert.equal(failed.status, 500);
      assert.equal(failed.body, `rpc error: code = Unavailable desc = connect ECONNREFUSED ${socketPath} (no process accepts connections on the CSI driver socket)`);
      assert.ok(failed.elapsedMs < FAST_FAILURE_BOUND_MS, `took ${failed.elapsedMs} ms`);
      const again = await sidecar.request();
      assert.equal(again.status, 500, 'still down');

      const restarted = await FakeDriver.start(t, socketPath, [], stack);
      const recovered = await sidecar.request();
      assert.equal(recovered.status, 200, recovered.body);
      assert.equal(recovered.body, 'ok');
      assert.equal(restarted.calls('Probe'), 1);
    });

    test('ready=false: 500 with the upstream body', async (t) => {
      const { sidecar } = await startPair(t, stack, ['--ready', 'false']);
      const result = await sidecar.request();
      assert.equal(result.status, 500);
      assert.equal(result.body, 'driver responded but is not ready');
      await sidecar.stderr.waitForLine(/^E.*\] "Driver responded but is not ready"$/, 5_000);
    });

    test('ready absent: healthy, as the CSI spec requires', async (t) => {
      const { sidecar } = await startPair(t, stack, ['--ready', 'absent']);
      const result = await sidecar.request();
      assert.equal(result.status, 200);
      assert.equal(result.body, 'ok');
    });

    test('an error text with UTF-8, "%" and a newline arrives byte for byte, as grpc-go decodes it', async (t) => {
      const message = 'disk ünïcødé 100% full\nsee /var/log: 日本';
      const { sidecar } = await startPair(t, stack, ['--probe-error', 'UNAVAILABLE', '--probe-error-message', message]);
      const result = await sidecar.request();
      assert.equal(result.status, 500);
      assert.equal(result.body, `rpc error: code = Unavailable desc = ${message}`);
    });

    test('gRPC error from the driver: 500 with grpc-go error text, and recovery', async (t) => {
      const { sidecar, driver } = await startPair(t, stack, ['--probe-error', 'INTERNAL', '--probe-error-message', 'disk on fire']);
      const result = await sidecar.request();
      assert.equal(result.status, 500);
      assert.equal(result.body, 'rpc error: code = Internal desc = disk on fire');
      await sidecar.stderr.waitForLine(/^E.*\] "Health check failed" err="rpc error: code = Internal desc = disk on fire"$/, 5_000);
      await driver.set({ probeError: 'FAILED_PRECONDITION', probeErrorMessage: 'not yet' });
      assert.equal((await sidecar.request()).body, 'rpc error: code = FailedPrecondition desc = not yet');
      await driver.set({ probeError: '' });
      assert.equal((await sidecar.request()).status, 200);
    });

    test('hung driver: 500 after --probe-timeout, and 20 concurrent requests share one Probe', async (t) => {
      const probeTimeoutMs = 2_000;
      const { sidecar, driver } = await startPair(t, stack, ['--hang-probe'], ['--probe-timeout=2s']);
      const results = await Promise.all(Array.from({ length: 20 }, () => sidecar.request()));
      for (const result of results) {
        assert.equal(result.status, 500);
        assert.equal(result.body, 'rpc error: code = DeadlineExceeded desc = context deadline exceeded (Probe did not answer within 2s)');
      }
      const slowest = Math.max(...results.map((r) => r.elapsedMs));
      const fastest = Math.min(...results.map((r) => r.elapsedMs));
      assert.ok(fastest >= probeTimeoutMs * 0.8, `first answer after ${fastest} ms`);
      assert.ok(slowest <= probeTimeoutMs * 1.2, `last answer after ${slowest} ms`);
      assert.equal(driver.calls('Probe'), 1);
    });

    test('slow but alive driver gets the whole timeout', async (t) => {
      const { sidecar } = await startPair(t, stack, ['--probe-delay-ms', '700'], ['--probe-timeout=5s']);
      const result = await sidecar.request();
      assert.equal(result.status, 200);
      assert.ok(result.elapsedMs >= 700, `answered after ${result.elapsedMs} ms`);
    });

    test('start-up with no driver: stays up, logs "Still connecting" every 10 s, serves once the driver appears', async (t) => {
      const dir = makeTempDir(t);
      const socketPath = path.join(dir, 'csi.sock');
      const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, '--http-endpoint=127.0.0.1:0']);
      await sidecar.waitUntilServing(15_000);
      // Upstream's words first, then why (test/e2e/still-connecting.test.ts covers each reason).
      await sidecar.stderr.waitForLine(new RegExp(`^W.*\\] "Still connecting to unix://${socketPath}" err="[^"]*connect ENOENT ${socketPath}[^"]*" hint="the socket does not exist[^"]*"$`), 15_000);
      assert.equal(sidecar.process.exitCode, null, 'still running');
      await FakeDriver.start(t, socketPath, [], stack);
      await sidecar.waitForLog(/"CSI driver name"/, 10_000);
      assert.equal((await sidecar.request()).status, 200);
    });

    test('any method on exactly /healthz checks; other paths are 404', async (t) => {
      const { sidecar, driver } = await startPair(t, stack);
      const head = await sidecar.request('/healthz', 'HEAD');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      const post = await sidecar.request('/healthz', 'POST');
      assert.equal(post.status, 200);
      assert.equal(post.body, 'ok');
      assert.equal((await sidecar.request('/healthz?verbose=0')).status, 200);
      for (const other of ['/', '/healthz/', '/healthzz', '/favicon.ico']) {
        const result = await sidecar.request(other);
        assert.equal(result.status, 404, other);
        assert.equal(result.body, '404 page not found\n');
      }
      assert.equal(driver.calls('Probe'), 3);
    });

    test('TCP driver address (host:port)', async (t) => {
      const driver = await FakeDriver.startTcp(t, [], stack);
      const sidecar = await Sidecar.start(t, [`--csi-address=${driver.address}`]);
      assert.equal((await sidecar.request()).status, 200);
    });
  });
}
