// Differential testing: the same generated inputs to our code and to a trusted
// implementation (Go's net/http, grpc-go, protobuf-go, llhttp via node:http,
// Python's hpack), every disagreement counted and the smallest one shown.
//
// A run has two passes over one seeded sequence of inputs (fast-check): the
// first counts the inputs tried and the disagreements within the budget; when
// there are any, the second replays the same seed with the comparison as the
// property, so that fast-check shrinks the first disagreement to the smallest
// input that still disagrees. Used by the test files beside this one (a small
// budget, in npm test) and by fuzz-cli.ts (npm run fuzz -- --seconds N).

import fc from 'fast-check';

/** Compares our verdict on one input with the trusted implementation's. */
export interface Comparator<Input> {
  /** undefined when both agree; otherwise both verdicts, in words. Throws only when the oracle itself fails. */
  compare(input: Input): Promise<string | undefined>;
  /** Ends what open() started. */
  close(): Promise<void>;
}

export interface DifferentialTarget<Input> {
  /** Printed in reports: "protobuf", "http1-request-head", "go-duration". */
  readonly name: string;
  /** What is compared, and against what ("our Go duration parser vs Go's time.ParseDuration"). */
  readonly description: string;
  /**
   * Set for a second oracle that does not decide (llhttp, where Go's net/http
   * is the original): its disagreements are reported, not failures.
   */
  readonly informational?: boolean;
  /** The generated inputs. */
  readonly inputs: fc.Arbitrary<Input>;
  /** Starts the oracle (a process, a server) for a run. */
  open(): Promise<Comparator<Input>>;
}

export interface DifferentialBudget {
  /** Stop generating after this many inputs. */
  readonly maxInputs: number;
  /** Stop generating after this long (shrinking gets the same again at most). */
  readonly seconds: number;
  /** fast-check seed; a random one when absent (printed in the report, to replay). */
  readonly seed?: number;
}

export interface DifferentialReport {
  readonly target: string;
  readonly seed: number;
  readonly inputsTried: number;
  readonly disagreements: number;
  /** The smallest disagreeing input found by shrinking (fast-check's notation) and how the verdicts differ. */
  readonly smallest?: { readonly input: string; readonly difference: string };
}

/** The budget of one target in npm test: the differential suites together stay well under a minute. */
export const TEST_BUDGET: DifferentialBudget = { maxInputs: 20_000, seconds: 6 };

/** Runs one target within `budget`; throws only when the oracle fails. */
export async function runDifferential<Input>(target: DifferentialTarget<Input>, budget: DifferentialBudget): Promise<DifferentialReport> {
  const seed = budget.seed ?? (Math.random() * 2 ** 31) | 0;
  const comparator = await target.open();
  try {
    let inputsTried = 0;
    let disagreements = 0;
    let firstDifference: { input: Input; difference: string } | undefined;
    const counting = fc.asyncProperty(target.inputs, async (input) => {
      inputsTried++;
      const difference = await comparator.compare(input);
      if (difference !== undefined) {
        disagreements++;
        firstDifference ??= { input, difference };
      }
      return true;
    });
    const counted = await fc.check(counting, { seed, numRuns: budget.maxInputs, interruptAfterTimeLimit: budget.seconds * 1000 });
    if (counted.failed && counted.errorInstance) throw counted.errorInstance;
    if (!firstDifference) return { target: target.name, seed, inputsTried, disagreements };

    let lastDifference = firstDifference.difference;
    const agreeing = fc.asyncProperty(target.inputs, async (input) => {
      const difference = await comparator.compare(input);
      if (difference !== undefined) lastDifference = difference;
      return difference === undefined;
    });
    const shrunk = await fc.check(agreeing, { seed, numRuns: inputsTried, interruptAfterTimeLimit: budget.seconds * 1000 });
    const smallest = shrunk.failed && shrunk.counterexample
      ? { input: fc.stringify(shrunk.counterexample[0]), difference: (await comparator.compare(shrunk.counterexample[0])) ?? lastDifference }
      : { input: fc.stringify(firstDifference.input), difference: firstDifference.difference };
    return { target: target.name, seed, inputsTried, disagreements, smallest };
  } finally {
    await comparator.close();
  }
}

/** One report as the lines npm run fuzz prints and a failing test shows. */
export function formatReport(report: DifferentialReport): string {
  const lines = [`${report.target}: ${report.inputsTried} inputs tried, ${report.disagreements} disagreements (seed ${report.seed})`];
  if (report.smallest) lines.push(`  smallest disagreeing input: ${report.smallest.input}`, `  ${report.smallest.difference}`);
  return lines.join('\n');
}
