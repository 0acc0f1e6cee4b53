// --logging-format=json: one object a line, in the shape of Kubernetes'
// component-base JSON logger: {"ts":<ms since epoch, float>,"caller":"file:line","msg":...,"v":N}.
// Error lines carry "err" and no "v". The caller is the text lines' one, the source file's base
// name: Go's zap also writes the last directory ("livenessprobe/main.go:133"), which for this
// tree's files would name "src" for some and "csi" for others without telling more.

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
