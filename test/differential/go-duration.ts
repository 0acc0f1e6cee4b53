// Target: our Go duration parser and formatter (src/go/duration.ts) against
// Go's time.ParseDuration and Duration.String, over text built from the
// grammar's pieces (signs, digits, dots, every unit, near-misses) and over
// random int64 nanoseconds.

import fc from 'fast-check';
import { formatGoDurationNanos, parseGoDurationNanos } from '../../src/go/duration';
import { buildGoProgram } from '../helpers/go-program';
import type { DifferentialTarget } from './harness';
import { OracleProcess } from './oracle-process';

type DurationInput = { readonly parse: string } | { readonly format: bigint };

const piece = fc.oneof(
  fc.constantFrom('', '+', '-', '.', '0', '1', '9', '00', '.5', '1.', '9223372036854775807', '9223372036854775808', '0.000000001'),
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.constantFrom('ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h', 'd', 'S', 'M', ' ', 'e3', 'µ', 'n'),
);

const durationText = fc.oneof(
  fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join('')),
  fc.string({ maxLength: 12 }),
);

export const goDurationTarget: DifferentialTarget<DurationInput> = {
  name: 'go-duration',
  description: "src/go/duration.ts vs Go's time.ParseDuration and Duration.String",
  inputs: fc.oneof(
    durationText.map((text) => ({ parse: text })),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map((nanos) => ({ format: nanos })),
  ),
  async open() {
    const oracle = new OracleProcess('go time', buildGoProgram('differential/oracles/go-time', 'oracle-go-time'));
    return {
      async compare(input) {
        if ('format' in input) {
          const go = await oracle.ask<{ text: string }>({ op: 'format-duration', nanos: input.format.toString() });
          const ours = formatGoDurationNanos(input.format);
          return ours === go.text ? undefined : `format ${input.format}: ours ${JSON.stringify(ours)}, Go ${JSON.stringify(go.text)}`;
        }
        const go = await oracle.ask<{ ok: boolean; nanos?: string; err?: string }>({ op: 'parse-duration', text: input.parse });
        let ours: string;
        try {
          ours = `ok ${parseGoDurationNanos(input.parse)}`;
        } catch (err) {
          ours = `error ${(err as Error).message}`;
        }
        const theirs = go.ok ? `ok ${go.nanos}` : `error ${go.err}`;
        return ours === theirs ? undefined : `parse ${JSON.stringify(input.parse)}: ours ${ours}; Go ${theirs}`;
      },
      close: () => oracle.close(),
    };
  },
};
