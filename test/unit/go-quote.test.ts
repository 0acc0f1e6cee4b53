// quoteGo against what Go's strconv.Quote prints for the same strings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { quoteGo } from '../../src/go/quote';

const CASES: readonly [string, string][] = [
  ['', '""'],
  ['abc', '"abc"'],
  // Every printable ASCII character but the two Go escapes: as it is.
  [" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~", '" !#$%&\'()*+,-./09:;<=>?@AZ[]^_`az{|}~"'],
  ['a\tb\n', '"a\\tb\\n"'],
  ['\x07\b\f\r\v', '"\\a\\b\\f\\r\\v"'],
  ['\x00\x1b\x7f', '"\\x00\\x1b\\x7f"'],
  ['say "hi" \\', '"say \\"hi\\" \\\\"'],
  ['héllo 日本', '"héllo 日本"'],
  ['\u00a0', '"\\u00a0"'],
  ['\u2028', '"\\u2028"'],
  ['\ufeff', '"\\ufeff"'],
  ['\u{1F600}', '"\u{1F600}"'],
  ['\u{E0001}', '"\\U000e0001"'],
  ['\ud800', '"\\ufffd"'],
];

test('quoteGo prints as strconv.Quote', () => {
  for (const [input, expected] of CASES) assert.equal(quoteGo(input), expected, JSON.stringify(input));
});
