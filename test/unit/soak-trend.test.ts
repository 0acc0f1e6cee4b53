// The soak's growth measure: the least-squares trend of its RSS readings against the checks done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TrendPoint, trendGrowth } from '../../bench/soak';

const evenly = (values: readonly number[]): TrendPoint[] => values.map((y, x) => ({ x, y }));

test('trend growth: a steady leak counts whole, a sawtooth of garbage collections does not', () => {
  assert.equal(trendGrowth(evenly([100, 101, 102, 103, 104, 105, 106, 107, 108, 109])), 9);
  assert.equal(trendGrowth(evenly([70, 70, 70, 70])), 0);
  // The CI sample that failed the endpoint measure (67.7 -> 70.4 MiB, +2.7) without a trend of 2 MiB.
  const measured = [67.7, 69.3, 68.2, 69.0, 69.9, 68.9, 69.4, 68.7, 69.4, 70.4];
  assert.ok(Math.abs(trendGrowth(evenly(measured)) - 1.51) < 0.01, String(trendGrowth(evenly(measured))));
  // A 3 MiB leak under the same noise is still caught.
  assert.ok(trendGrowth(evenly(measured.map((value, index) => value + (3 * index) / 9))) > 2);
});

test('trend growth: readings at uneven check counts; growth spans the first to the last count', () => {
  // 2 KiB per 1,000 checks, read at irregular counts: 40 KiB from 0 to 20,000.
  const leak = [0, 700, 2_500, 2_600, 9_000, 14_000, 20_000].map((x) => ({ x, y: 60_000 + (2 * x) / 1_000 }));
  assert.ok(Math.abs(trendGrowth(leak) - 40) < 1e-9, String(trendGrowth(leak)));
  assert.equal(trendGrowth([{ x: 5, y: 1 }]), 0);
  assert.equal(trendGrowth([{ x: 5, y: 1 }, { x: 5, y: 9 }]), 0, 'no checks between the readings: no trend');
});
