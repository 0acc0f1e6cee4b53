// A real CSI driver process for tests, benchmarks and the demo: a @grpc/grpc-js
// server on a unix socket (or TCP) that implements csi.v1.Identity from
// proto/csi-identity.proto and answers every other service with Unimplemented.
//
// Its behaviour is set by flags at start and changed at run time by JSON lines
// on stdin (same keys as the flags, camelCase, e.g. {"ready":false}, {"probeDelayMs":5000}, {"exit":0});
// booleans and numbers as JSON values or as strings.
// It reports on stdout, one JSON object a line:
//   {"event":"listening","address":"..."}
//   {"event":"call","method":"Probe","count":3}   (not with --quiet)

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const PROTO_PATH = path.resolve(__dirname, '..', '..', '..', 'proto', 'csi-identity.proto');

export interface DriverBehaviour {
  name: string;
  vendorVersion: string;
  /** Delay before answering Probe. */
  probeDelayMs: number;
  ready: 'true' | 'false' | 'absent';
  /** gRPC status name to fail Probe with ("UNAVAILABLE", "INTERNAL", ...), or "" to succeed. */
  probeError: string;
  probeErrorMessage: string;
  /** gRPC status name to fail GetPluginInfo with, or "". */
  infoError: string;
  /** Never answer Probe. */
  hangProbe: boolean;
  /** If > 0: every Probe answer is padded with an unknown field to exactly this many bytes (size limits). */
  probeAnswerBytes: number;
}

const { values: flags } = parseArgs({
  options: {
    socket: { type: 'string' },
    tcp: { type: 'string' },
    name: { type: 'string', default: 'test.csi.example.com' },
    'vendor-version': { type: 'string', default: '1.0.0' },
    'probe-delay-ms': { type: 'string', default: '0' },
    ready: { type: 'string', default: 'true' },
    'probe-error': { type: 'string', default: '' },
    'probe-error-message': { type: 'string', default: 'driver failure injected by test' },
    'info-error': { type: 'string', default: '' },
    'hang-probe': { type: 'boolean', default: false },
    'probe-answer-bytes': { type: 'string', default: '0' },
    // Benchmarks: no line per call (writing it would cost the driver more than answering).
    quiet: { type: 'boolean', default: false },
  },
});

const behaviour: DriverBehaviour = {
  name: flags.name!,
  vendorVersion: flags['vendor-version']!,
  probeDelayMs: Number(flags['probe-delay-ms']),
  ready: flags.ready as DriverBehaviour['ready'],
  probeError: flags['probe-error']!,
  probeErrorMessage: flags['probe-error-message']!,
  infoError: flags['info-error']!,
  hangProbe: flags['hang-probe']!,
  probeAnswerBytes: Number(flags['probe-answer-bytes']),
};

/** Field 15, length-delimited: unknown to the CSI ProbeResponse, so a reader skips it. */
const PADDING_FIELD_TAG = 0x7a;

function varint(value: number): Buffer {
  const bytes: number[] = [];
  do {
    bytes.push((value & 0x7f) | (value > 0x7f ? 0x80 : 0));
    value = Math.floor(value / 128);
  } while (value > 0);
  return Buffer.from(bytes);
}

/** `encoded` with an unknown field appended so that the whole is exactly `totalBytes` long (when it can be). */
function padTo(encoded: Buffer, totalBytes: number): Buffer {
  for (let lengthBytes = 1; lengthBytes <= 5; lengthBytes++) {
    const padLength = totalBytes - encoded.length - 1 - lengthBytes;
    if (padLength > 0 && varint(padLength).length === lengthBytes) {
      return Buffer.concat([encoded, Buffer.from([PADDING_FIELD_TAG]), varint(padLength), Buffer.alloc(padLength, 0x61)]);
    }
  }
  return encoded;
}

const callCounts = new Map<string, number>();

function report(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function countCall(method: string): void {
  if (flags.quiet) return;
  const count = (callCounts.get(method) ?? 0) + 1;
  callCounts.set(method, count);
  report({ event: 'call', method, count });
}

function statusError(codeName: string, message: string): grpc.ServiceError {
  const code = (grpc.status as unknown as Record<string, number>)[codeName];
  if (code === undefined) throw new Error(`unknown gRPC status name ${codeName}`);
  return Object.assign(new Error(message), { code, details: message, metadata: new grpc.Metadata() });
}

type UnaryHandler = grpc.handleUnaryCall<unknown, unknown>;

const identityHandlers: Record<string, UnaryHandler> = {
  GetPluginInfo(_call, callback) {
    countCall('GetPluginInfo');
    if (behaviour.infoError !== '') return callback(statusError(behaviour.infoError, 'GetPluginInfo failure injected by test'));
    callback(null, { name: behaviour.name, vendorVersion: behaviour.vendorVersion, manifest: { test: 'true' } });
  },
  GetPluginCapabilities(_call, callback) {
    countCall('GetPluginCapabilities');
    callback(null, { capabilities: [] });
  },
  Probe(_call, callback) {
    countCall('Probe');
    if (behaviour.hangProbe) return; // never answer: the caller's deadline must save it
    const answer = () => {
      if (behaviour.probeError !== '') return callback(statusError(behaviour.probeError, behaviour.probeErrorMessage));
      const ready = behaviour.ready === 'absent' ? undefined : { value: behaviour.ready === 'true' };
      callback(null, { ready });
    };
    if (behaviour.probeDelayMs > 0) setTimeout(answer, behaviour.probeDelayMs);
    else answer();
  },
};

/** The kind of value each behaviour key takes, for control lines. */
const BEHAVIOUR_KINDS: Readonly<Record<keyof DriverBehaviour, 'string' | 'number' | 'boolean' | 'ready'>> = {
  name: 'string',
  vendorVersion: 'string',
  probeDelayMs: 'number',
  ready: 'ready',
  probeError: 'string',
  probeErrorMessage: 'string',
  infoError: 'string',
  hangProbe: 'boolean',
  probeAnswerBytes: 'number',
};

/**
 * A control line's value for `key`, or a string saying what is wrong. JSON booleans and numbers
 * and their strings are both taken ({"ready":true} and {"ready":"true"}), as a person types either.
 */
function controlValue(key: keyof DriverBehaviour, value: unknown): { value: unknown } | string {
  switch (BEHAVIOUR_KINDS[key]) {
    case 'string':
      return typeof value === 'string' ? { value } : `${key} takes a string`;
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? { value: number } : `${key} takes a whole number of at least 0`;
    }
    case 'boolean':
      if (value === true || value === 'true') return { value: true };
      if (value === false || value === 'false') return { value: false };
      return `${key} takes true or false`;
    case 'ready':
      if (value === true || value === 'true') return { value: 'true' };
      if (value === false || value === 'false') return { value: 'false' };
      if (value === 'absent' || value === null) return { value: 'absent' };
      return `${key} takes true, false or "absent" (no ready field in the answer)`;
  }
}

function applyControl(line: string): void {
  let command: unknown;
  try {
    command = JSON.parse(line);
  } catch {
    report({ event: 'error', message: `control line is not JSON: ${line}` });
    return;
  }
  if (typeof command !== 'object' || command === null || Array.isArray(command)) {
    report({ event: 'error', message: `control line is not a JSON object: ${line}` });
    return;
  }
  const fields = command as Record<string, unknown>;
  if (typeof fields.exit === 'number') {
    process.exit(fields.exit);
  }
  for (const [key, value] of Object.entries(fields)) {
    if (!(key in behaviour)) {
      report({ event: 'error', message: `unknown control key ${key}; known: exit, ${Object.keys(behaviour).join(', ')}` });
      continue;
    }
    const parsed = controlValue(key as keyof DriverBehaviour, value);
    if (typeof parsed === 'string') {
      report({ event: 'error', message: `${parsed}, not ${JSON.stringify(value)}` });
      continue;
    }
    (behaviour as unknown as Record<string, unknown>)[key] = parsed.value;
  }
  report({ event: 'applied', behaviour });
}

function main(): void {
  const definition = protoLoader.loadSync(PROTO_PATH, { keepCase: false, defaults: false, oneofs: true });
  const identity = grpc.loadPackageDefinition(definition).csi as grpc.GrpcObject;
  const service = ((identity.v1 as grpc.GrpcObject).Identity as grpc.ServiceClientConstructor).service;

  const probe = service.Probe;
  const serializeProbe = probe.responseSerialize;
  const paddedService = {
    ...service,
    Probe: { ...probe, responseSerialize: (value: unknown) => (behaviour.probeAnswerBytes > 0 ? padTo(serializeProbe(value), behaviour.probeAnswerBytes) : serializeProbe(value)) },
  };
  const server = new grpc.Server();
  server.addService(paddedService, identityHandlers);

  let bindAddress: string;
  if (flags.socket) {
    fs.rmSync(flags.socket, { force: true }); // a stale socket from an earlier run, as real drivers do
    bindAddress = `unix://${flags.socket}`;
  } else if (flags.tcp) {
    bindAddress = flags.tcp;
  } else {
    throw new Error('give --socket PATH or --tcp HOST:PORT');
  }
  server.bindAsync(bindAddress, grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      report({ event: 'error', message: err.message });
      process.exit(1);
    }
    report({ event: 'listening', address: flags.socket ?? bindAddress.replace(/:\d+$/, `:${port}`) });
  });

  const stop = () => {
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref(); // a hung Probe keeps tryShutdown waiting
  };
  // Stdin closing means the test that started us is gone: do not linger.
  readline.createInterface({ input: process.stdin }).on('line', applyControl).on('close', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main();
