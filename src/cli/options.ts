// The sidecar's flags (names and defaults as upstream), typed options and the
// cross-flag rules.

import { CsiAddress, normalizeCsiAddress } from '../csi/address';
import { ListenAddress, parseListenAddress, parsePortNumber } from '../http/listen-address';
import { FlagDefinition, FlagSet, FlagValue, ParsedFlags } from '../go/flags';
import { READYZ_PATH } from '../http/healthz';

export const PROGRAM_NAME = 'csi-livenessprobe';
export const DEFAULT_HEALTH_PORT = 9808;
export const LOGGING_FORMATS = ['text', 'json'] as const;
export type LoggingFormat = (typeof LOGGING_FORMATS)[number];

export interface SidecarOptions {
  readonly csiAddress: CsiAddress;
  readonly probeTimeoutMs: number;
  /**
   * --not-ready-grace in milliseconds: how long /healthz passes a driver that
   * answers `ready: false` (initializing, in the CSI spec's words). 0 (the
   * default) fails it at once, as upstream.
   */
  readonly notReadyGraceMs: number;
  /** Where /healthz is served: --http-endpoint, else 0.0.0.0:--health-port (every interface, IPv4 and IPv6, as Go). */
  readonly healthListen: ListenAddress;
  /** Whether the metrics path is served beside /healthz (--http-endpoint set). */
  readonly metricsOnHealthListener: boolean;
  /** --metrics-address: a listener of its own that serves only the metrics path. */
  readonly metricsListen: ListenAddress | undefined;
  readonly metricsPath: string;
  readonly verbosity: number;
  readonly loggingFormat: LoggingFormat;
  /** --log-*-split-stream: info lines to stdout, errors to stderr. */
  readonly splitStream: boolean;
  /** --version: print the version and exit (not an upstream flag). */
  readonly showVersion: boolean;
  /** Warnings to log once logging is set up (deprecated or no-op flags that were set). */
  readonly notices: readonly string[];
}

/** A rule between flags was broken; main prints the message and exits 1, as upstream does. */
export class OptionsConflictError extends Error {
  readonly code = 'ERR_OPTIONS_CONFLICT';
}

const validateCsiAddress = (value: FlagValue) => {
  const result = normalizeCsiAddress(value as string);
  return typeof result === 'string' ? result : undefined;
};
const validateListenAddress = (value: FlagValue) => {
  if (value === '') return undefined;
  const result = parseListenAddress(value as string);
  return typeof result === 'string' ? result : undefined;
};
const validatePort = (value: FlagValue) => {
  const result = parsePortNumber(value as string);
  return typeof result === 'string' ? result : undefined;
};
const validatePositiveDuration = (value: FlagValue) => ((value as bigint) > 0n ? undefined : 'must be greater than 0');
const validateNonNegativeDuration = (value: FlagValue) => ((value as bigint) >= 0n ? undefined : 'must be 0 or greater');
const validateVerbosity = (value: FlagValue) => ((value as number) >= 0 ? undefined : 'must be 0 or greater');
const validateLoggingFormat = (value: FlagValue) =>
  (LOGGING_FORMATS as readonly string[]).includes(value as string)
    ? undefined
    : `unsupported log format; use ${LOGGING_FORMATS.join(' or ')}`;

const SIDECAR_FLAGS: readonly FlagDefinition[] = [
  { name: 'csi-address', kind: 'string', defaultValue: '/run/csi/socket', usage: 'Address of the CSI driver socket: an absolute path, unix:///path, or host:port.', validate: validateCsiAddress },
  { name: 'probe-timeout', kind: 'duration', defaultValue: 3_000_000_000n, usage: 'Time limit for one health check (one CSI Probe call), as a Go duration: 500ms, 3s, 1m30s.', validate: validatePositiveDuration },
  { name: 'not-ready-grace', kind: 'duration', defaultValue: 0n, usage: 'How long /healthz keeps passing a CSI driver that answers Probe with ready=false (initializing), counted from its first such answer, as a Go duration: 2m, 90s. 0 fails it at once, as the upstream sidecar does. /readyz fails it either way. Not an upstream flag.', validate: validateNonNegativeDuration },
  { name: 'health-port', kind: 'string', defaultValue: String(DEFAULT_HEALTH_PORT), usage: '(deprecated) TCP port to serve /healthz on, on every interface, IPv4 and IPv6. Cannot be set together with `--http-endpoint`.', validate: validatePort },
  { name: 'http-endpoint', kind: 'string', defaultValue: '', usage: 'TCP address (host:port or :port) of the HTTP server for /healthz and metrics. Empty means serve /healthz on `--health-port` and no metrics. Cannot be set together with `--health-port` or `--metrics-address`.', validate: validateListenAddress },
  { name: 'metrics-address', kind: 'string', defaultValue: '', usage: '(deprecated) TCP address (host:port or :port) of a separate listener that serves only Prometheus metrics. Empty means none. Cannot be set together with `--http-endpoint`.', validate: validateListenAddress },
  { name: 'metrics-path', kind: 'string', defaultValue: '/metrics', usage: 'HTTP path where Prometheus metrics are served.', validate: (value) => ((value as string).startsWith('/') ? undefined : 'must start with "/"') },
  { name: 'v', kind: 'int', defaultValue: 0, typeName: 'value', usage: 'Log verbosity: 0 logs start-up and failures, 5 logs every check.', validate: validateVerbosity },
  { name: 'vmodule', kind: 'string', defaultValue: '', typeName: 'pattern=N,...', usage: 'Accepted for compatibility; per-file verbosity has no effect here.' },
  { name: 'logging-format', kind: 'string', defaultValue: 'text', usage: 'Log line format: "text" (klog lines) or "json".', validate: validateLoggingFormat },
  { name: 'log-flush-frequency', kind: 'duration', defaultValue: 5_000_000_000n, usage: 'Accepted for compatibility; lines are written as they are logged, so there is nothing to flush.' },
  { name: 'log-json-info-buffer-size', kind: 'string', defaultValue: '0', typeName: 'quantity', usage: 'Accepted for compatibility; info lines are not buffered.' },
  { name: 'log-json-split-stream', kind: 'bool', defaultValue: false, usage: 'With --logging-format=json: write info lines to stdout and errors to stderr.' },
  { name: 'log-text-info-buffer-size', kind: 'string', defaultValue: '0', typeName: 'quantity', usage: 'Accepted for compatibility; info lines are not buffered.' },
  { name: 'log-text-split-stream', kind: 'bool', defaultValue: false, usage: 'With --logging-format=text: write info lines to stdout and errors to stderr.' },
  { name: 'version', kind: 'bool', defaultValue: false, usage: 'Print the name, version and git commit, then exit (not an upstream flag).' },
  { name: 'automaxprocs', kind: 'bool', defaultValue: false, usage: 'Accepted for compatibility; it tunes the Go runtime and has no effect here.' },
];

/** Flags that old manifests still pass: accepted, warned about, otherwise ignored. */
const RETIRED_FLAGS: readonly (Omit<FlagDefinition, 'usage'> & { why: string })[] = [
  { name: 'connection-timeout', kind: 'duration', defaultValue: 0n, why: 'the sidecar waits for the driver without a time limit' },
  { name: 'logtostderr', kind: 'bool', defaultValue: true, why: 'logs always go to stderr' },
  { name: 'alsologtostderr', kind: 'bool', defaultValue: false, why: 'logs always go to stderr' },
  { name: 'add_dir_header', kind: 'bool', defaultValue: false, why: 'klog file flags were removed upstream' },
  { name: 'skip_headers', kind: 'bool', defaultValue: false, why: 'klog file flags were removed upstream' },
  { name: 'skip_log_headers', kind: 'bool', defaultValue: false, why: 'klog file flags were removed upstream' },
  { name: 'one_output', kind: 'bool', defaultValue: false, why: 'logs always go to stderr' },
  { name: 'stderrthreshold', kind: 'string', defaultValue: '2', typeName: 'severity', why: 'logs always go to stderr' },
  { name: 'log_dir', kind: 'string', defaultValue: '', why: 'logs are not written to files' },
  { name: 'log_file', kind: 'string', defaultValue: '', why: 'logs are not written to files' },
  { name: 'log_file_max_size', kind: 'int', defaultValue: 1800, why: 'logs are not written to files' },
  { name: 'log_backtrace_at', kind: 'string', defaultValue: ':0', typeName: 'traceLocation', why: 'klog file flags were removed upstream' },
];

export function createSidecarFlagSet(): FlagSet {
  const flags = new FlagSet(PROGRAM_NAME);
  for (const definition of SIDECAR_FLAGS) flags.define(definition);
  for (const retired of RETIRED_FLAGS) {
    flags.define({ ...retired, usage: `(deprecated, no effect: ${retired.why}) Accepted so that old manifests keep working.` });
  }
  return flags;
}

/** The flag that set a listener's address, for messages about it. */
export function listenAddressFlag(options: SidecarOptions, listener: 'health' | 'metrics'): string {
  if (listener === 'metrics') return '--metrics-address';
  return options.metricsOnHealthListener ? '--http-endpoint' : '--health-port';
}

/** Parses argv into options. Throws FlagError (exit 2) or OptionsConflictError (exit 1). */
export function parseSidecarOptions(argv: readonly string[]): SidecarOptions {
  const parsed = createSidecarFlagSet().parse(argv);
  return toOptions(parsed);
}

/** Upstream's rules between flags, in upstream's words; main exits 1 on them. */
function checkFlagConflicts(healthPort: string, httpEndpoint: string, metricsAddress: string, metricsPath: string): void {
  // Compared as text, as upstream does: "--health-port=09808" counts as set.
  if (healthPort !== String(DEFAULT_HEALTH_PORT) && httpEndpoint !== '') {
    throw new OptionsConflictError('Only one of `--health-port` and `--http-endpoint` can be explicitly set');
  }
  if (metricsAddress !== '' && httpEndpoint !== '') {
    throw new OptionsConflictError('Only one of `--metrics-address` and `--http-endpoint` can be explicitly set');
  }
  if (httpEndpoint !== '' && metricsPath === '/healthz') {
    throw new OptionsConflictError('`--metrics-path` cannot be /healthz when metrics share the `--http-endpoint` listener');
  }
}

function toOptions(parsed: ParsedFlags): SidecarOptions {
  const get = <T extends FlagValue>(name: string) => parsed.values.get(name) as T;
  const healthPort = get<string>('health-port');
  const httpEndpoint = get<string>('http-endpoint');
  const metricsAddress = get<string>('metrics-address');

  const showVersion = get<boolean>('version');
  // Same rules and words as upstream, checked after parsing; exit 1. --version answers whatever else is set.
  if (!showVersion) checkFlagConflicts(healthPort, httpEndpoint, metricsAddress, get<string>('metrics-path'));

  const notices: string[] = [];
  for (const retired of RETIRED_FLAGS) {
    if (parsed.explicitlySet.has(retired.name)) {
      notices.push(`Flag --${retired.name} is deprecated and has no effect: ${retired.why}`);
    }
  }
  if (get<string>('vmodule') !== '') notices.push('Flag --vmodule has no effect: use -v for verbosity');
  if (httpEndpoint !== '' && metricsAddress === '' && get<string>('metrics-path') === READYZ_PATH) {
    // Upstream has no /readyz, so a manifest may already serve metrics there: that keeps working, as a drop-in must.
    notices.push(`Flag --metrics-path is ${READYZ_PATH}: metrics are served there, and the readiness endpoint is not; pick another --metrics-path to get it`);
  }
  const csiAddress = normalizeCsiAddress(get<string>('csi-address')) as CsiAddress; // validated by the flag
  const notReadyGraceMs = Number(get<bigint>('not-ready-grace')) / 1e6;
  if (notReadyGraceMs > 0 && csiAddress.tcp !== undefined) {
    // Over TCP a restarted driver looks like any new connection: nothing on the wire tells a restart from a
    // connection recycled by a proxy or by the driver (grpc-go's MaxConnectionAge), and each gets a new grace.
    notices.push(
      `Flag --not-ready-grace with a TCP --csi-address: every new connection to the driver is taken for a restarted driver and starts a new grace, so a driver reached through anything that recycles connections may stay not ready without failing /healthz; use a unix socket to have a driver that never gets ready restarted one grace later`,
    );
  }
  if (parsed.remaining.length > 0) {
    // Go's flag package stops at the first non-flag argument and ignores the rest; say so.
    notices.push(`Ignoring arguments after the first non-flag argument: ${parsed.remaining.join(' ')}`);
  }

  const loggingFormat = get<LoggingFormat>('logging-format');
  const listen = (text: string) => parseListenAddress(text) as ListenAddress; // validated by the flag
  return {
    csiAddress,
    probeTimeoutMs: Number(get<bigint>('probe-timeout')) / 1e6,
    notReadyGraceMs,
    healthListen: httpEndpoint !== '' ? listen(httpEndpoint) : { host: '0.0.0.0', port: parsePortNumber(healthPort) as number },
    metricsOnHealthListener: httpEndpoint !== '' && metricsAddress === '',
    metricsListen: metricsAddress !== '' ? listen(metricsAddress) : undefined,
    metricsPath: get<string>('metrics-path'),
    verbosity: get<number>('v'),
    loggingFormat,
    splitStream: loggingFormat === 'json' ? get<boolean>('log-json-split-stream') : get<boolean>('log-text-split-stream'),
    showVersion,
    notices,
  };
}

