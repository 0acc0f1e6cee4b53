// Go's strconv.Quote (the `%q` verb): how Go prints a string in flag errors,
// duration errors, usage defaults and klog values, so our text matches it.
//
// Written by hand: JSON.stringify differs from Go for \a, \v, DEL and the
// other control bytes (\u0007 vs \a, \x7f kept bare) and for non-printable
// Unicode (U+00A0, U+2028 kept bare), which Go escapes.

const SHORT_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['\x07', '\\a'],
  ['\b', '\\b'],
  ['\f', '\\f'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\v', '\\v'],
  ['"', '\\"'],
  ['\\', '\\\\'],
]);

/** Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const hex = (value: number, width: number) => value.toString(16).padStart(width, '0');

function escapeCodePoint(char: string): string {
  const short = SHORT_ESCAPES.get(char);
  if (short) return short;
  const codePoint = char.codePointAt(0)!;
  if (codePoint >= 0xd800 && codePoint <= 0xdfff) return '\\ufffd'; // a lone surrogate is invalid UTF-8 once written
  if (PRINTABLE.test(char)) return char;
  if (codePoint < 0x80) return `\\x${hex(codePoint, 2)}`;
  return codePoint <= 0xffff ? `\\u${hex(codePoint, 4)}` : `\\U${hex(codePoint, 8)}`;
}

/**
 * Printable ASCII but `"` and `\`: text Go quotes as it is. Most log text is
 * all of it, and this test spares it PRINTABLE, a Unicode-property pattern V8
 * compiles on first use (a millisecond or two of start-up CPU, measured).
 */
const QUOTED_AS_IS = /^[ !#-[\]-~]*$/;

/** "a\tb" -> "\"a\\tb\"", as Go's strconv.Quote. */
export function quoteGo(text: string): string {
  if (QUOTED_AS_IS.test(text)) return `"${text}"`;
  let quoted = '"';
  for (const char of text) quoted += escapeCodePoint(char);
  return quoted + '"';
}
