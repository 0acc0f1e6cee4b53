import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runDifferential, TEST_BUDGET } from './harness';
import { serveMuxTarget } from './serve-mux';

test("routing: ours agrees with Go's ReadRequest and ServeMux on generated request targets (#20)", async () => {
  const report = await runDifferential(serveMuxTarget, TEST_BUDGET);
  assert.equal(report.disagreements, 0, formatReport(report));
  assert.ok(report.inputsTried > 100, formatReport(report));
});
