// --logging-format=json: one object a line, in the shape of Kubernetes'
// component-base JSON logger: {"ts":<ms since epoch, float>,"caller":"file:line","msg":...,"v":N}.
// Error lines carry "err" and no "v". The caller is zap's short caller, as upstream's JSON lines
// carry it ("livenessprobe/main.go:133"): the source file's folder, base name and line
// ("csi/connection.ts:118", "src/sidecar.ts:150"); text lines show the base name only, as klog.

import { LogEntry } from './log-entry';

export function formatJsonLine(entry: LogEntry): string {
  const record: Record<string, unknown> = {
    ts: entry.timeMicros / 1000,
    caller: entry.caller,
    msg: entry.message,
  };
  if (entry.severity === 'E') {
    if (entry.error !== undefined) record.err = entry.error;
  } else {
    record.v = entry.verbosity;
  }
  for (const [key, value] of entry.fields) {
    if (!(key in record)) record[key] = value instanceof Error ? value.message : value;
  }
  return JSON.stringify(record) + '\n';
}
