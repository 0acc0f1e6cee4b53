// klog's text line: "I1125 08:04:17.971029    6022 main.go:133] "msg" key="value"".
//
// Written by hand because no npm logger writes klog's header and structured
// key/value layout, and log pipelines written for the Go sidecar parse it.

import { quoteGo } from '../go/quote';
import { LogEntry } from './log-entry';

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** Header: severity, MMDD, local time with microseconds, pid right-aligned in 7, the caller's base name and line (klog's "main.go:133"), "] ". */
export function formatKlogHeader(entry: LogEntry): string {
  const date = new Date(Math.floor(entry.timeMicros / 1000));
  const micros = entry.timeMicros % 1_000_000;
  return (
    `${entry.severity}${pad(date.getMonth() + 1, 2)}${pad(date.getDate(), 2)} ` +
    `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}.${pad(micros, 6)} ` +
    `${String(entry.pid).padStart(7, ' ')} ${entry.caller.slice(entry.caller.lastIndexOf('/') + 1)}] `
  );
}

/** klog renders strings quoted, multi-line strings as a block, numbers and booleans bare. */
function formatValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Error) value = value.message;
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  if (text.includes('\n')) {
    return `<\n${text.replace(/\n$/, '').split('\n').map((line) => `\t${line}`).join('\n')}\n >`;
  }
  return quoteGo(text);
}

export function formatKlogLine(entry: LogEntry): string {
  let line = formatKlogHeader(entry) + quoteGo(entry.message);
  if (entry.error !== undefined) line += ` err=${formatValue(entry.error)}`;
  for (const [key, value] of entry.fields) line += ` ${key}=${formatValue(value)}`;
  return line + '\n';
}
