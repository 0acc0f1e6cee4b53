// The short soak: 20,000 checks through driver restarts and socket
// replacements (npm run soak runs 1,000,000); memory and descriptors stay flat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runSoak } from '../../bench/soak';

test('short soak: 20,000 checks, RSS and open files flat across driver restarts', async () => {
  const report = await runSoak(20_000);
  assert.equal(report.checks, 20_000);
  assert.equal(report.disruptions, 9);
  assert.ok((report.statusCounts['200'] ?? 0) > 19_000, JSON.stringify(report.statusCounts));
  assert.deepEqual(report.problems, [], JSON.stringify(report.samples));
});
