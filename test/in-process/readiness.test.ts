// Issue #28: one shared check, two questions. A Probe's outcome, fresh or
// cached (the connection budget's recent verdicts, issue #22), gives /healthz
// its liveness verdict (with --not-ready-grace) and /readyz the CSI spec's
// readiness, whichever route's request started the Probe.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { FakeDriver } from '../helpers/fake-driver';
import { startInProcess } from '../helpers/in-process';
import { makeTempDir } from '../helpers/tmp';
import { waitFor } from '../helpers/wait';

const NOT_READY = { healthy: false, reason: 'driver responded but is not ready' };
const OK = { healthy: true, reason: 'ok' };

async function startNotReady(t: import('node:test').TestContext, sidecarArgs: string[]) {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  const driver = await FakeDriver.start(t, socketPath, ['--ready', 'false']);
  const { sidecar } = await startInProcess(t, [`--csi-address=${socketPath}`, ...sidecarArgs]);
  await sidecar.driverName;
  return { driver, health: sidecar.health };
}

test('within --not-ready-grace: a not-ready outcome, fresh or cached, passes liveness and fails readiness', async (t) => {
  const { driver, health } = await startNotReady(t, ['--not-ready-grace=1m']);
  assert.deepEqual(await health.verdict(undefined, 'readiness'), NOT_READY);
  // The outcome the readiness request got, cached, answers both questions each its own way.
  assert.deepEqual(health.recentVerdict(1_000, 'liveness'), OK);
  assert.deepEqual(health.recentVerdict(1_000, 'readiness'), NOT_READY);
  assert.deepEqual(await health.verdict(), OK);
  assert.deepEqual(health.recentVerdict(1_000), OK, 'liveness is the default question, as before /readyz');
  assert.equal(health.snapshot().notReadyGraceMs, 60_000);
  assert.equal(health.snapshot().lastCheck?.answer, 'not-ready');

  await driver.set({ ready: 'true' });
  // A check recentVerdict started before the change may still answer not ready: wait for an answer after it.
  await waitFor('a ready answer', async () => ((await health.verdict(undefined, 'readiness')).healthy ? true : undefined), 5_000);
  assert.deepEqual(health.recentVerdict(1_000, 'liveness'), OK);
  assert.deepEqual(health.recentVerdict(1_000, 'readiness'), OK);
});

test('without the grace: a not-ready outcome, fresh or cached, fails both, as upstream', async (t) => {
  const { health } = await startNotReady(t, []);
  assert.deepEqual(await health.verdict(), NOT_READY);
  assert.deepEqual(health.recentVerdict(1_000, 'readiness'), NOT_READY);
  assert.deepEqual(health.recentVerdict(1_000, 'liveness'), NOT_READY);
  assert.equal(health.snapshot().notReadyGraceMs, 0);
});
