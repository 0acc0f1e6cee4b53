import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatGoDuration, formatGoDurationNanos, parseGoDurationNanos } from '../../src/go/duration';

// Cases checked against Go's time.ParseDuration.
const VALID: readonly [string, bigint][] = [
  ['0', 0n],
  ['5s', 5_000_000_000n],
  ['30s', 30_000_000_000n],
  ['1478s', 1_478_000_000_000n],
  ['-5s', -5_000_000_000n],
  ['+5s', 5_000_000_000n],
  ['-0', 0n],
  ['+0', 0n],
  ['5.0s', 5_000_000_000n],
  ['5.6s', 5_600_000_000n],
  ['5.s', 5_000_000_000n],
  ['.5s', 500_000_000n],
  ['1.0s', 1_000_000_000n],
  ['1.00s', 1_000_000_000n],
  ['1.004s', 1_004_000_000n],
  ['1.0040s', 1_004_000_000n],
  ['100.00100s', 100_001_000_000n],
  ['10ns', 10n],
  ['11us', 11_000n],
  ['12\u00b5s', 12_000n],
  ['12\u03bcs', 12_000n],
  ['13ms', 13_000_000n],
  ['14s', 14_000_000_000n],
  ['15m', 900_000_000_000n],
  ['16h', 57_600_000_000_000n],
  ['3h30m', 12_600_000_000_000n],
  ['10.5s4m', 250_500_000_000n],
  ['-2m3.4s', -123_400_000_000n],
  ['1h2m3s4ms5us6ns', 3_723_004_005_006n],
  ['39h9m14.425s', 140_954_425_000_000n],
  ['52763797000ns', 52_763_797_000n],
  ['0.3333333333333333333h', 1_200_000_000_000n],
  ['9007199254740993ns', 9_007_199_254_740_993n],
  ['9223372036854775807ns', 9_223_372_036_854_775_807n],
  ['0.100000000000000000000h', 360_000_000_000n],
  ['1m30s', 90_000_000_000n],
  ['1.5s', 1_500_000_000n],
  ['500ms', 500_000_000n],
  ['2h45m', 9_900_000_000_000n],
];

const INVALID: readonly [string, string][] = [
  ['', 'time: invalid duration ""'],
  // Found by the differential test against Go (test/differential/go-duration.ts):
  ['\u00b5s', 'time: invalid duration "\\xc2\\xb5s"'], // time's own quoting, not %q
  ['10000000000000000000', 'time: invalid duration "10000000000000000000"'], // leading int overflows before the unit
  ['9223372036854775808ns1x', 'time: unknown unit "x" in duration "9223372036854775808ns1x"'], // range checked at the end
  ['3', 'time: missing unit in duration "3"'],
  ['-', 'time: invalid duration "-"'],
  ['s', 'time: invalid duration "s"'],
  ['.', 'time: invalid duration "."'],
  ['-.', 'time: invalid duration "-."'],
  ['.s', 'time: invalid duration ".s"'],
  ['+.s', 'time: invalid duration "+.s"'],
  ['1d', 'time: unknown unit "d" in duration "1d"'],
  ['3000000h', 'time: invalid duration "3000000h"'],
  ['9223372036854775808ns', 'time: invalid duration "9223372036854775808ns"'],
  ['abc', 'time: invalid duration "abc"'],
  ['1s ', 'time: unknown unit "s " in duration "1s "'],
];

test('parses every Go duration form', () => {
  for (const [text, nanos] of VALID) {
    assert.equal(parseGoDurationNanos(text), nanos, text);
  }
});

test('rejects malformed durations with Go error text', () => {
  for (const [text, message] of INVALID) {
    assert.throws(() => parseGoDurationNanos(text), { message }, JSON.stringify(text));
  }
});

test('formats like Go Duration.String', () => {
  const cases: readonly [bigint, string][] = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_100n, '1.1\u00b5s'],
    [2_200_000n, '2.2ms'],
    [500_000_000n, '500ms'],
    [1_000_000_000n, '1s'],
    [1_500_000_000n, '1.5s'],
    [3_000_000_000n, '3s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [9_900_000_000_000n, '2h45m0s'],
    [4_000_000_001n, '4.000000001s'],
    [-1_500_000_000n, '-1.5s'],
  ];
  for (const [nanos, text] of cases) assert.equal(formatGoDurationNanos(nanos), text);
  assert.equal(formatGoDuration(3000), '3s');
});
