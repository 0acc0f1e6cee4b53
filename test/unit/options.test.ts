import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OptionsConflictError, parseSidecarOptions } from '../../src/cli/options';

test('defaults match upstream', () => {
  const options = parseSidecarOptions([]);
  assert.equal(options.csiAddress.display, 'unix:///run/csi/socket');
  assert.equal(options.probeTimeoutMs, 3000);
  assert.deepEqual(options.healthListen, { host: '0.0.0.0', port: 9808 });
  assert.equal(options.metricsOnHealthListener, false);
  assert.equal(options.metricsListen, undefined);
  assert.equal(options.metricsPath, '/metrics');
  assert.equal(options.verbosity, 0);
  assert.equal(options.loggingFormat, 'text');
  assert.deepEqual(options.notices, []);
});

test('--http-endpoint replaces --health-port and carries metrics', () => {
  const options = parseSidecarOptions(['--http-endpoint=:8080']);
  assert.deepEqual(options.healthListen, { host: undefined, port: 8080 });
  assert.equal(options.metricsOnHealthListener, true);
});

test('--health-port equal to the default may be combined with --http-endpoint, as upstream', () => {
  assert.doesNotThrow(() => parseSidecarOptions(['--health-port=9808', '--http-endpoint=127.0.0.1:8080']));
});

test('cross-flag rules use upstream words', () => {
  assert.throws(() => parseSidecarOptions(['--health-port=9000', '--http-endpoint=:8080']), (err: unknown) => {
    assert.ok(err instanceof OptionsConflictError);
    assert.equal(err.message, 'Only one of `--health-port` and `--http-endpoint` can be explicitly set');
    return true;
  });
  assert.throws(() => parseSidecarOptions(['--metrics-address=:9000', '--http-endpoint=:8080']), {
    message: 'Only one of `--metrics-address` and `--http-endpoint` can be explicitly set',
  });
});

test('metrics on the health listener cannot take the /healthz path', () => {
  assert.throws(() => parseSidecarOptions(['--http-endpoint=:8080', '--metrics-path=/healthz']), {
    message: '`--metrics-path` cannot be /healthz when metrics share the `--http-endpoint` listener',
  });
});

test('--metrics-address gets a listener of its own', () => {
  const options = parseSidecarOptions(['--metrics-address=127.0.0.1:9001', '--health-port=9000']);
  assert.deepEqual(options.metricsListen, { host: '127.0.0.1', port: 9001 });
  assert.deepEqual(options.healthListen, { host: '0.0.0.0', port: 9000 });
  assert.equal(options.metricsOnHealthListener, false);
});

test('values the Go sidecar would only fail on later are usage errors here', () => {
  const cases: readonly [string[], RegExp][] = [
    [['--probe-timeout=0s'], /^invalid value "0s" for flag -probe-timeout: must be greater than 0$/],
    [['--probe-timeout=-1s'], /^invalid value "-1s" for flag -probe-timeout: must be greater than 0$/],
    [['--health-port=abc'], /^invalid value "abc" for flag -health-port: port "abc" is not a number/],
    [['--health-port=70000'], /^invalid value "70000" for flag -health-port: port 70000 is out of range/],
    [['--http-endpoint=8080'], /^invalid value "8080" for flag -http-endpoint: missing port in address/],
    [['--metrics-address=::1:80'], /too many colons/],
    [['--csi-address=csi.sock'], /^invalid value "csi.sock" for flag -csi-address: not an absolute socket path/],
    [['--csi-address=unix://relative'], /need an absolute path/],
    [['--logging-format=xml'], /^invalid value "xml" for flag -logging-format: unsupported log format; use text or json$/],
    [['--metrics-path=metrics'], /must start with "\/"/],
    [['-v=-1'], /^invalid value "-1" for flag -v: must be 0 or greater$/],
  ];
  for (const [argv, pattern] of cases) {
    assert.throws(() => parseSidecarOptions(argv), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_FLAG_USAGE', argv.join(' '));
      assert.match((err as Error).message, pattern);
      return true;
    });
  }
});

test('flags of old manifests are accepted with a notice', () => {
  const options = parseSidecarOptions([
    '--connection-timeout=3s',
    '--logtostderr',
    '--alsologtostderr=false',
    '--add_dir_header',
    '--stderrthreshold=INFO',
    '--log_dir=/tmp',
    '--vmodule=main=5',
    '--automaxprocs',
    '--log-flush-frequency=10s',
    '--log-json-info-buffer-size=1Mi',
  ]);
  assert.deepEqual(options.notices, [
    'Flag --connection-timeout is deprecated and has no effect: the sidecar waits for the driver without a time limit',
    'Flag --logtostderr is deprecated and has no effect: logs always go to stderr',
    'Flag --alsologtostderr is deprecated and has no effect: logs always go to stderr',
    'Flag --add_dir_header is deprecated and has no effect: klog file flags were removed upstream',
    'Flag --stderrthreshold is deprecated and has no effect: logs always go to stderr',
    'Flag --log_dir is deprecated and has no effect: logs are not written to files',
    'Flag --vmodule has no effect: use -v for verbosity',
  ]);
});

test('arguments after the first non-flag are reported, not silently dropped', () => {
  const options = parseSidecarOptions(['--v=2', 'stray', '--v=5']);
  assert.equal(options.verbosity, 2);
  assert.deepEqual(options.notices, ['Ignoring arguments after the first non-flag argument: stray --v=5']);
});

test('split streams follow the chosen format', () => {
  assert.equal(parseSidecarOptions(['--log-text-split-stream']).splitStream, true);
  assert.equal(parseSidecarOptions(['--log-json-split-stream']).splitStream, false);
  assert.equal(parseSidecarOptions(['--logging-format=json', '--log-json-split-stream']).splitStream, true);
});

test('issue #28: --not-ready-grace is a Go duration, 0 (upstream behaviour) by default; negative is a usage error', () => {
  assert.equal(parseSidecarOptions([]).notReadyGraceMs, 0);
  assert.equal(parseSidecarOptions(['--not-ready-grace=1m30s']).notReadyGraceMs, 90_000);
  assert.equal(parseSidecarOptions(['-not-ready-grace', '1.5s']).notReadyGraceMs, 1_500);
  assert.equal(parseSidecarOptions(['--not-ready-grace=0']).notReadyGraceMs, 0);
  const cases: readonly [string[], RegExp][] = [
    [['--not-ready-grace=-1s'], /^invalid value "-1s" for flag -not-ready-grace: must be 0 or greater$/],
    [['--not-ready-grace=abc'], /^invalid value "abc" for flag -not-ready-grace: parse error$/],
    [['--not-ready-grace=10'], /^invalid value "10" for flag -not-ready-grace: parse error$/],
  ];
  for (const [argv, pattern] of cases) {
    assert.throws(() => parseSidecarOptions(argv), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'ERR_FLAG_USAGE', argv.join(' '));
      assert.match((err as Error).message, pattern);
      return true;
    });
  }
});

test('issue #28: a --metrics-path of /readyz on the health listener keeps the metrics there, with a notice', () => {
  assert.deepEqual(parseSidecarOptions(['--http-endpoint=:8080', '--metrics-path=/readyz']).notices, [
    'Flag --metrics-path is /readyz: metrics are served there, and the readiness endpoint is not; pick another --metrics-path to get it',
  ]);
  // On a listener of its own, the metrics path takes nothing from the health listener.
  assert.deepEqual(parseSidecarOptions(['--metrics-address=:9001', '--metrics-path=/readyz']).notices, []);
});
