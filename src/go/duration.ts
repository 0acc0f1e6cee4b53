// Go durations ("3s", "1.5s", "1m30s", "500ms", "2h45m"): parse and format.
//
// Written by hand because no npm library follows Go's time.ParseDuration and
// Duration.String exactly, and manifests written for the Go sidecar pass
// durations in that syntax. Arithmetic is done in integer nanoseconds
// (BigInt) so "1.000000001s" and overflow behave as they do in Go.


const NANOS_PER_UNIT: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n], // U+00B5 micro sign
  ['\u03bcs', 1_000n], // U+03BC Greek small letter mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const MAX_NANOS = (1n << 63n) - 1n; // Go's time.Duration is an int64

/**
 * The text quoted as Go's time package quotes it in errors (not strconv's %q):
 * bytes of control characters and of everything past ASCII as \xNN, `"` and
 * `\` escaped with a backslash.
 */
function quoteTimeText(text: string): string {
  let quoted = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte >= 0x80 || byte < 0x20) quoted += `\\x${byte.toString(16).padStart(2, '0')}`;
    else quoted += (byte === 0x22 || byte === 0x5c ? '\\' : '') + String.fromCharCode(byte);
  }
  return `${quoted}"`;
}

export class DurationSyntaxError extends Error {
  readonly code = 'ERR_DURATION_SYNTAX';
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/**
 * The nanoseconds of a fraction's digits, computed as Go does: digits are
 * taken while they fit an int64, then scaled in float64 and truncated.
 */
function fractionNanos(digits: string, unit: bigint): bigint {
  let fraction = 0n;
  let scale = 1;
  for (const digit of digits) {
    if (fraction > MAX_NANOS / 10n) break;
    const next = fraction * 10n + BigInt(digit);
    if (next > MAX_NANOS) break;
    fraction = next;
    scale *= 10;
  }
  return BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)));
}

/** Parses a Go duration string into integer nanoseconds. Throws DurationSyntaxError with Go's message. */
export function parseGoDurationNanos(input: string): bigint {
  const invalid = () => new DurationSyntaxError(`time: invalid duration ${quoteTimeText(input)}`);
  let s = input;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') throw invalid();

  let total = 0n;
  while (s !== '') {
    if (!(s[0] === '.' || isDigit(s[0]))) throw invalid();
    let i = 0;
    while (isDigit(s[i])) i++;
    const wholeDigits = s.slice(0, i);
    // Go's leadingInt fails past 1<<63, before the unit is looked at.
    if (wholeDigits !== '' && BigInt(wholeDigits) > MAX_NANOS + 1n) throw invalid();
    s = s.slice(i);
    let fractionDigits = '';
    if (s.startsWith('.')) {
      s = s.slice(1);
      let j = 0;
      while (isDigit(s[j])) j++;
      fractionDigits = s.slice(0, j);
      s = s.slice(j);
    }
    if (wholeDigits === '' && fractionDigits === '') throw invalid();

    let unitEnd = 0;
    while (unitEnd < s.length && !(s[unitEnd] === '.' || isDigit(s[unitEnd]))) unitEnd++;
    if (unitEnd === 0) throw new DurationSyntaxError(`time: missing unit in duration ${quoteTimeText(input)}`);
    const unitName = s.slice(0, unitEnd);
    s = s.slice(unitEnd);
    const unit = NANOS_PER_UNIT.get(unitName);
    if (unit === undefined) {
      throw new DurationSyntaxError(`time: unknown unit ${quoteTimeText(unitName)} in duration ${quoteTimeText(input)}`);
    }

    const whole = wholeDigits === '' ? 0n : BigInt(wholeDigits);
    let value = whole * unit;
    if (fractionDigits !== '') value += fractionNanos(fractionDigits, unit);
    total += value;
    // As Go: each part may bring the total to 1<<63 (the magnitude of the most negative duration); a
    // positive total is checked against the int64 range only at the end, after every part's syntax.
    if (value > MAX_NANOS + 1n || total > MAX_NANOS + 1n) throw invalid();
  }
  if (!negative && total > MAX_NANOS) throw invalid();
  return negative ? -total : total;
}

/** Go's fmtFrac: the fraction of v below 10^precision, trailing zeros dropped. */
function splitFraction(v: bigint, precision: number): { whole: bigint; fraction: string } {
  const scale = 10n ** BigInt(precision);
  const digits = (v % scale).toString().padStart(precision, '0').replace(/0+$/, '');
  return { whole: v / scale, fraction: digits === '' ? '' : `.${digits}` };
}

/** Formats integer nanoseconds the way Go's Duration.String does ("1m30s", "1.5s", "500ms", "0s"). */
export function formatGoDurationNanos(nanos: bigint): string {
  const sign = nanos < 0n ? '-' : '';
  const u = nanos < 0n ? -nanos : nanos;
  if (u === 0n) return '0s';
  if (u < 1_000n) return `${sign}${u}ns`;
  if (u < 1_000_000n) {
    const { whole, fraction } = splitFraction(u, 3);
    return `${sign}${whole}${fraction}\u00b5s`;
  }
  if (u < 1_000_000_000n) {
    const { whole, fraction } = splitFraction(u, 6);
    return `${sign}${whole}${fraction}ms`;
  }
  const { whole: totalSeconds, fraction } = splitFraction(u, 9);
  const seconds = totalSeconds % 60n;
  const totalMinutes = totalSeconds / 60n;
  let text = `${seconds}${fraction}s`;
  if (totalMinutes > 0n) {
    text = `${totalMinutes % 60n}m${text}`;
    const hours = totalMinutes / 60n;
    if (hours > 0n) text = `${hours}h${text}`;
  }
  return sign + text;
}

/** Formats milliseconds as a Go duration string. */
export function formatGoDuration(ms: number): string {
  return formatGoDurationNanos(BigInt(Math.round(ms * 1e6)));
}
