// npm run fuzz -- [--seconds N] [--seed S] [--target NAME]: every differential
// target (or one) for N seconds each (default 60), printing per target the
// inputs tried, the disagreements and the smallest disagreeing input. Exits 1
// when any target disagrees, but for informational ones (a second oracle that
// does not decide).

import { parseArgs } from 'node:util';
import { formatReport, runDifferential } from './harness';
import { TARGETS } from './targets';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, seed: { type: 'string' }, target: { type: 'string' } } });
  const seconds = Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--seconds wants a positive number, got ${JSON.stringify(values.seconds)}`);
  const targets = values.target === undefined ? TARGETS : TARGETS.filter((t) => t.name === values.target);
  if (targets.length === 0) throw new Error(`no target named ${JSON.stringify(values.target)}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  let failed = false;
  for (const target of targets) {
    const report = await runDifferential(target, { maxInputs: Number.MAX_SAFE_INTEGER, seconds, seed: values.seed === undefined ? undefined : Number(values.seed) });
    console.log(`${formatReport(report)}\n  (${target.description}${target.informational ? '; informational, not a failure' : ''})`);
    failed ||= report.disagreements > 0 && !target.informational;
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`fuzz: ${(err as Error).message}`);
    process.exit(2);
  },
);
