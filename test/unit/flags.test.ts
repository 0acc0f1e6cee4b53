import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlagError, FlagSet } from '../../src/go/flags';

function exampleFlags(): FlagSet {
  const flags = new FlagSet('example');
  flags.define({ name: 'csi-address', kind: 'string', defaultValue: '/run/csi/socket', usage: 'Address of the socket.' });
  flags.define({ name: 'probe-timeout', kind: 'duration', defaultValue: 3_000_000_000n, usage: 'Time limit.' });
  flags.define({ name: 'v', kind: 'int', defaultValue: 0, typeName: 'value', usage: 'Verbosity.' });
  flags.define({ name: 'split', kind: 'bool', defaultValue: false, usage: 'Split streams.' });
  flags.define({ name: 'on', kind: 'bool', defaultValue: true, usage: 'On by default.' });
  return flags;
}

// [argv, flag, expected value, remaining args]
const FORMS: readonly [string[], string, unknown, string[]][] = [
  [['-csi-address=/a'], 'csi-address', '/a', []],
  [['--csi-address=/a'], 'csi-address', '/a', []],
  [['-csi-address', '/a'], 'csi-address', '/a', []],
  [['--csi-address', '/a'], 'csi-address', '/a', []],
  [['--csi-address='], 'csi-address', '', []],
  [['--csi-address=a=b'], 'csi-address', 'a=b', []],
  [['--csi-address', '--v=5'], 'csi-address', '--v=5', []], // a non-boolean flag takes the next argument, whatever it is
  [['-v=5'], 'v', 5, []],
  [['--v', '5'], 'v', 5, []],
  [['-v', '0x10'], 'v', 16, []],
  [['-v=0o17'], 'v', 15, []],
  [['-v=017'], 'v', 15, []],
  [['-v=0b101'], 'v', 5, []],
  [['-v=1_000'], 'v', 1000, []],
  [['-v=-3'], 'v', -3, []],
  [['--probe-timeout=1m30s'], 'probe-timeout', 90_000_000_000n, []],
  [['--probe-timeout', '500ms'], 'probe-timeout', 500_000_000n, []],
  [['-probe-timeout=1.5s'], 'probe-timeout', 1_500_000_000n, []],
  [['--split'], 'split', true, []],
  [['-split'], 'split', true, []],
  [['--split=true'], 'split', true, []],
  [['--split=1'], 'split', true, []],
  [['--split=T'], 'split', true, []],
  [['--split=false'], 'split', false, []],
  [['--on=0'], 'on', false, []],
  [['--on=F'], 'on', false, []],
  // A bare boolean does not take the next argument: parsing stops at "false", as in Go.
  [['--split', 'false', '-v=5'], 'split', true, ['false', '-v=5']],
  [['--', '-v=5'], 'v', 0, ['-v=5']],
  [['-', '-v=5'], 'v', 0, ['-', '-v=5']],
  [['extra', '-v=5'], 'v', 0, ['extra', '-v=5']],
  [['-v=1', '-v=2'], 'v', 2, []], // the last one wins
];

test('accepts every Go flag form', () => {
  for (const [argv, name, expected, remaining] of FORMS) {
    const parsed = exampleFlags().parse(argv);
    assert.deepEqual(parsed.values.get(name), expected, argv.join(' '));
    assert.deepEqual(parsed.remaining, remaining, argv.join(' '));
  }
});

test('records which flags were set explicitly', () => {
  const parsed = exampleFlags().parse(['--v=0', '-split']);
  assert.deepEqual([...parsed.explicitlySet], ['v', 'split']);
  assert.equal(parsed.values.get('csi-address'), '/run/csi/socket');
});

// [argv, Go's message]
const ERRORS: readonly [string[], string][] = [
  [['--bogus'], 'flag provided but not defined: -bogus'],
  [['-bogus=1'], 'flag provided but not defined: -bogus'],
  [['---v=1'], 'bad flag syntax: ---v=1'],
  [['-=1'], 'bad flag syntax: -=1'],
  [['--csi-address'], 'flag needs an argument: -csi-address'],
  [['--v=abc'], 'invalid value "abc" for flag -v: parse error'],
  [['--v=99999999999999999999'], 'invalid value "99999999999999999999" for flag -v: value out of range'],
  [['--v=1__0'], 'invalid value "1__0" for flag -v: parse error'],
  [['--v=08'], 'invalid value "08" for flag -v: parse error'],
  [['--probe-timeout=abc'], 'invalid value "abc" for flag -probe-timeout: parse error'],
  [['--probe-timeout', '3'], 'invalid value "3" for flag -probe-timeout: parse error'],
  [['--split=yes'], 'invalid boolean value "yes" for -split: parse error'],
];

test('rejects bad flags with Go messages', () => {
  for (const [argv, message] of ERRORS) {
    assert.throws(() => exampleFlags().parse(argv), (err: unknown) => {
      assert.ok(err instanceof FlagError);
      assert.equal(err.code, 'ERR_FLAG_USAGE');
      assert.equal(err.message, message);
      return true;
    });
  }
});

test('-h, -help and --help ask for usage', () => {
  for (const arg of ['-h', '--h', '-help', '--help']) {
    assert.throws(() => exampleFlags().parse([arg]), { code: 'ERR_FLAG_HELP' });
  }
});

test('a validator refusal is an invalid value', () => {
  const flags = new FlagSet('example');
  flags.define({ name: 'n', kind: 'int', defaultValue: 1, usage: 'N.', validate: (v) => ((v as number) > 0 ? undefined : 'must be positive') });
  assert.throws(() => flags.parse(['-n=0']), { message: 'invalid value "0" for flag -n: must be positive' });
});

test('usage is laid out like Go flag.PrintDefaults', () => {
  assert.equal(
    exampleFlags().usage(),
    [
      'Usage of example:',
      '  -csi-address string',
      '    \tAddress of the socket. (default "/run/csi/socket")',
      '  -on',
      '    \tOn by default. (default true)',
      '  -probe-timeout duration',
      '    \tTime limit. (default 3s)',
      '  -split',
      '    \tSplit streams.',
      '  -v value',
      '    \tVerbosity.',
      '',
    ].join('\n'),
  );
});
