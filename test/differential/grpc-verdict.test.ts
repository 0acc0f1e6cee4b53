import assert from 'node:assert/strict';
import { test } from 'node:test';
import { grpcVerdictTarget } from './grpc-verdict';
import { formatReport, runDifferential, TEST_BUDGET } from './harness';

test('gRPC verdicts: a Probe through our client agrees with grpc-go on generated HTTP/2 answers', async () => {
  const report = await runDifferential(grpcVerdictTarget, TEST_BUDGET);
  assert.equal(report.disagreements, 0, formatReport(report));
  assert.ok(report.inputsTried > 20, formatReport(report));
});
