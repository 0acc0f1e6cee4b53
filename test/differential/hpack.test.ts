import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runDifferential, TEST_BUDGET } from './harness';
import { hpackTarget } from './hpack';

test('HPACK: our decoder agrees with Python hpack on generated header block sequences', async () => {
  const report = await runDifferential(hpackTarget, TEST_BUDGET);
  assert.equal(report.disagreements, 0, formatReport(report));
  assert.ok(report.inputsTried > 100, formatReport(report));
});
