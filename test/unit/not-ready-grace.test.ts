// The meaning of a Probe answer for /healthz and /readyz, and the not-ready
// stretch behind --not-ready-grace (issue #28). Pure rules; the sidecar
// applying them to real drivers is test/e2e/readiness.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeLiveness, judgeReadiness, NOT_READY_REASON, NotReadyStretches } from '../../src/check/not-ready-grace';

const ERROR = 'rpc error: code = Internal desc = disk on fire';

test('readiness: ready passes; not ready and failed calls fail with their reasons', () => {
  assert.deepEqual(judgeReadiness('ready', 'ok'), { passed: true, reason: 'ok' });
  assert.deepEqual(judgeReadiness('not-ready', NOT_READY_REASON), { passed: false, reason: NOT_READY_REASON });
  assert.deepEqual(judgeReadiness('failed', ERROR), { passed: false, reason: ERROR });
});

test('liveness without a grace is upstream: not ready fails with upstream text', () => {
  assert.deepEqual(judgeLiveness('not-ready', NOT_READY_REASON, { sinceEpochMs: 0, lastedMs: 0 }, 0), { passed: false, reason: NOT_READY_REASON });
  assert.deepEqual(judgeLiveness('ready', 'ok', undefined, 0), { passed: true, reason: 'ok' });
  assert.deepEqual(judgeLiveness('failed', ERROR, undefined, 0), { passed: false, reason: ERROR });
});

test('liveness with a grace: not ready passes for less than the grace, fails from it on saying for how long; errors fail at once', () => {
  const graceMs = 40_000;
  assert.deepEqual(judgeLiveness('not-ready', NOT_READY_REASON, { sinceEpochMs: 0, lastedMs: 39_999 }, graceMs), { passed: true, reason: 'ok' });
  assert.deepEqual(judgeLiveness('not-ready', NOT_READY_REASON, { sinceEpochMs: 0, lastedMs: 40_000 }, graceMs), {
    passed: false,
    reason: 'driver responded but is not ready: not ready for 40s, longer than --not-ready-grace=40s',
  });
  assert.equal(judgeLiveness('not-ready', NOT_READY_REASON, { sinceEpochMs: 0, lastedMs: 41_203.4 }, graceMs).reason, 'driver responded but is not ready: not ready for 41.203s, longer than --not-ready-grace=40s');
  assert.deepEqual(judgeLiveness('failed', ERROR, { sinceEpochMs: 0, lastedMs: 1 }, graceMs), { passed: false, reason: ERROR });
});

test('a stretch begins at the first not-ready Probe, survives failed calls, ends at a ready answer', () => {
  const stretches = new NotReadyStretches();
  assert.equal(stretches.record('ready', 1_000, 1), undefined);
  assert.equal(stretches.record('not-ready', 2_000, 1)?.lastedMs, 0);
  assert.equal(stretches.record('not-ready', 3_500, 1)?.lastedMs, 1_500);
  // A failed call says nothing of readiness: the stretch goes on, measured to that call.
  assert.equal(stretches.record('failed', 4_000, 1)?.lastedMs, 2_000);
  assert.equal(stretches.record('not-ready', 5_000, 1)?.lastedMs, 3_000);
  assert.equal(stretches.record('ready', 6_000, 1), undefined);
  assert.equal(stretches.record('not-ready', 7_000, 1)?.lastedMs, 0, 'a new stretch after a ready answer');
});

test('a failed call before any answer begins no stretch', () => {
  const stretches = new NotReadyStretches();
  assert.equal(stretches.record('failed', 1_000, 1), undefined);
  assert.equal(stretches.record('not-ready', 2_000, 1)?.lastedMs, 0);
});

test('a new driver instance (restarted driver) begins a new stretch', () => {
  const stretches = new NotReadyStretches();
  stretches.record('not-ready', 1_000, 1);
  assert.equal(stretches.record('not-ready', 30_000, 1)?.lastedMs, 29_000);
  assert.equal(stretches.record('failed', 31_000, 1)?.lastedMs, 30_000, 'the old driver gone: the stretch goes on until an answer says otherwise');
  assert.equal(stretches.record('not-ready', 32_000, 2)?.lastedMs, 0);
  assert.equal(stretches.record('not-ready', 33_000, 2)?.lastedMs, 1_000);
});

test('an answer to a Probe sent before the last one recorded changes nothing', () => {
  const stretches = new NotReadyStretches();
  stretches.record('not-ready', 1_000, 1);
  stretches.record('not-ready', 5_000, 1);
  // A late ready answer from before: the driver has said not ready since.
  assert.equal(stretches.record('ready', 4_000, 1)?.lastedMs, 3_000);
  assert.equal(stretches.record('not-ready', 6_000, 1)?.lastedMs, 5_000);
});

// Issue #28: a failed call says nothing of readiness, so it must not make an
// earlier Probe's answer stale either. A call cancelled because its client
// left (the kubelet's timeoutSeconds) or failed fast, sent after a slow ready
// answer's Probe, hid that answer: the stretch went on through a ready driver.
test('issue #28: a failed call sent after a Probe does not make that Probe\'s answer stale', () => {
  const stretches = new NotReadyStretches();
  stretches.record('not-ready', 1_000, 1);
  assert.equal(stretches.record('failed', 5_000, 1)?.lastedMs, 4_000);
  assert.equal(stretches.record('ready', 4_000, 1), undefined, 'the ready answer to the Probe sent at 4 s ends the stretch');
  assert.equal(stretches.record('not-ready', 6_000, 1)?.lastedMs, 0, 'not ready again after a ready answer: a new stretch');

  // The same for a not-ready answer that begins a stretch.
  const fresh = new NotReadyStretches();
  fresh.record('ready', 1_000, 1);
  fresh.record('failed', 3_000, 1);
  assert.equal(fresh.record('not-ready', 2_000, 1)?.lastedMs, 0);
  assert.equal(fresh.record('not-ready', 4_000, 1)?.lastedMs, 2_000, 'the stretch began with the Probe sent at 2 s');
});
