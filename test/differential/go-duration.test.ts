import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goDurationTarget } from './go-duration';
import { formatReport, runDifferential, TEST_BUDGET } from './harness';

test('Go durations: ours agree with Go time on generated inputs', async () => {
  const report = await runDifferential(goDurationTarget, TEST_BUDGET);
  assert.equal(report.disagreements, 0, formatReport(report));
  assert.ok(report.inputsTried > 100, formatReport(report));
});
