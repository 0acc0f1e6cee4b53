import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReport, runDifferential, TEST_BUDGET } from './harness';
import { http1VsGoTarget } from './http1';

test("HTTP/1.1 server: ours agrees with Go's net/http on generated raw requests", async () => {
  const report = await runDifferential(http1VsGoTarget, TEST_BUDGET);
  assert.equal(report.disagreements, 0, formatReport(report));
  assert.ok(report.inputsTried > 20, formatReport(report));
});
