// The field-syntax character classes (src/wire/http-semantics/field-chars.ts) against the
// grammar written as regular expressions straight from RFC 9110: every
// single character up to U+017F, then random strings over a mix of the
// classes' edges.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { hasControlChar, hasInvalidFieldValueChar, isLowerCaseToken, isThreeDigits, isToken } from '../../src/wire/http-semantics/field-chars';

/** RFC 9110 section 5.6.2 tchar, section 5.5 field-value, section 15 status-code, as regular expressions. */
const GRAMMAR: readonly [string, (text: string) => boolean, RegExp][] = [
  ['isToken', isToken, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/],
  ['isLowerCaseToken', isLowerCaseToken, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/],
  ['hasInvalidFieldValueChar', hasInvalidFieldValueChar, /[\x00-\x08\x0a-\x1f\x7f]/],
  ['hasControlChar', hasControlChar, /[\x00-\x1f\x7f]/],
  ['isThreeDigits', isThreeDigits, /^[0-9]{3}$/],
];

test('every single character up to U+017F, alone and between letters, is classed as the grammar classes it', () => {
  for (let code = 0; code <= 0x17f; code++) {
    const char = String.fromCharCode(code);
    for (const text of [char, `a${char}`, `${char}b`, `1${char}2`, `${char}${char}${char}`]) {
      for (const [name, classify, grammar] of GRAMMAR) assert.equal(classify(text), grammar.test(text), `${name}(${JSON.stringify(text)})`);
    }
  }
  for (const [name, classify, grammar] of GRAMMAR) assert.equal(classify(''), grammar.test(''), `${name}("")`);
});

test('random strings over the classes edges are classed as the grammar classes them', () => {
  const edgy = fc.constantFrom(...'\x00\x08\x09\x0a\x0d\x1f\x20!"#%&(),/09:;@AZ[\\]^_`az{|}~\x7f\x80\xff\u0100'.split(''));
  fc.assert(
    fc.property(fc.array(edgy, { maxLength: 8 }), (chars) => {
      const text = chars.join('');
      for (const [name, classify, grammar] of GRAMMAR) assert.equal(classify(text), grammar.test(text), `${name}(${JSON.stringify(text)})`);
    }),
    { numRuns: 20_000, seed: 21 },
  );
});
