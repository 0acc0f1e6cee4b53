// Character classes of HTTP field syntax (RFC 9110 sections 5 and 15), shared
// by the HTTP/1.1 request parser and the HTTP/2 response checks. Each test is
// a loop over the characters (tokens look each up in a 128-entry table, the
// others compare code ranges) rather than a regular expression: fields are
// checked on every request and every answer, and a RegExp test is a call into
// the regexp engine per field. Text is one character per byte (latin1), as
// both parsers decode it.

const TCHAR = 1;
const LOWER_CASE_TCHAR = 2;

/** RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. */
const CHAR_CLASSES = (() => {
  const table = new Uint8Array(128);
  const mark = (chars: string, bits: number) => {
    for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] |= bits;
  };
  mark("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz", TCHAR | LOWER_CASE_TCHAR);
  mark('ABCDEFGHIJKLMNOPQRSTUVWXYZ', TCHAR);
  return table;
})();

function consistsOf(text: string, bits: number): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || (CHAR_CLASSES[code] & bits) === 0) return false;
  }
  return true;
}

/** RFC 9110 section 5.6.2: token = 1*tchar (methods, HTTP/1.1 field names). */
export function isToken(text: string): boolean {
  return consistsOf(text, TCHAR);
}

/** A token without upper-case letters: RFC 9113 section 8.2.1 makes a field name with one malformed in HTTP/2. */
export function isLowerCaseToken(text: string): boolean {
  return consistsOf(text, LOWER_CASE_TCHAR);
}

/**
 * Whether a field value holds a control character other than HTAB (0x00-0x08,
 * 0x0A-0x1F, 0x7F): RFC 9110 section 5.5 field-value allows VCHAR, obs-text,
 * SP and HTAB only between its ends (Go's httpguts.ValidHeaderFieldValue;
 * RFC 9113 section 8.2.1 names NUL, CR and LF).
 */
export function hasInvalidFieldValueChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return true;
  }
  return false;
}

/** Whether `text` holds a control character, HTAB included (0x00-0x1F, 0x7F): Go's url.Parse refuses one in a request target. */
export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Whether `text` is exactly three ASCII digits (RFC 9110 section 15: status-code = 3DIGIT). */
export function isThreeDigits(text: string): boolean {
  return text.length === 3 && isDigitAt(text, 0) && isDigitAt(text, 1) && isDigitAt(text, 2);
}

/** Whether the character at `at` is an ASCII digit (false past the end). */
export function isDigitAt(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code >= 0x30 && code <= 0x39;
}
