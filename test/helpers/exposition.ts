// Reads a Prometheus text exposition into comparable series, and runs promtool on it.

import { spawn } from 'node:child_process';

/** "name{a="1",b="2"}" with labels sorted, so label order in the text does not matter. */
export function seriesKey(name: string, labels: Record<string, string>): string {
  const sorted = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return sorted.length === 0 ? name : `${name}{${sorted.join(',')}}`;
}

export interface Exposition {
  readonly samples: ReadonlyMap<string, number>;
  /** "# HELP" and "# TYPE" lines by metric name. */
  readonly help: ReadonlyMap<string, string>;
  readonly type: ReadonlyMap<string, string>;
}

export function parseExposition(text: string): Exposition {
  const samples = new Map<string, number>();
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (comment) {
      (comment[1] === 'HELP' ? help : type).set(comment[2], comment[3]);
      continue;
    }
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (sample[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.set(seriesKey(sample[1], labels), Number(sample[3]));
  }
  return { samples, help, type };
}

/** Every sample of one metric family (name prefix), `_sum` left out: its value is a timing. */
export function familySamples(exposition: Exposition, family: string): Map<string, number> {
  return new Map([...exposition.samples].filter(([key]) => key.startsWith(family) && !key.startsWith(`${family}_sum`)));
}

/** `promtool check metrics` on the text; resolves with its exit code and output. Fails if promtool is missing. */
export function promtoolCheck(text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', (err) => reject(new Error(`cannot run promtool (install Debian's prometheus package): ${err.message}`)));
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(text);
  });
}
