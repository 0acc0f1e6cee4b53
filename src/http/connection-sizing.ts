// The size of the connection budget: what the process's open-file limit and a
// memory budget allow, whichever is smaller.

import { readFileSync } from 'node:fs';

/**
 * RSS one held connection costs, measured with 5,000 held and the image's V8
 * options: on Node 24, 3.9 KiB before any byte and 4.3 KiB with half a
 * request head buffered (Node 20: 3.0 and 3.9). So the 6,144 connections of
 * the budget below take 24-26 MiB.
 */
export const BYTES_PER_CONNECTION = 4 * 1024;
/**
 * RSS the sidecar may spend on connections: 6,144 of them. About 50 MiB idle,
 * plus this, plus the garbage of a connection flood stays well inside the
 * 128 MiB limit of the example manifests (docs/design.md, "Connections and memory").
 */
export const CONNECTION_MEMORY_BUDGET_BYTES = 24 * 1024 * 1024;
/**
 * File descriptors kept out of the budget: the sidecar's own (stdio, libuv's
 * epoll, eventfd, io_uring and signal pipes, the listeners, the driver
 * socket, a /proc read: about 25 measured) and the budget's overdraft
 * (OVERDRAFT_CONNECTIONS in connection-budget.ts). Staying below the limit
 * matters: at the limit libuv accepts and closes every connection queued,
 * before the sidecar sees them.
 */
export const RESERVED_FDS = 64;

const LIMITS_FILE = '/proc/self/limits';

export type OpenFileLimit = { readonly soft: number } | { readonly unknown: string };

/** The soft RLIMIT_NOFILE of this process ("unlimited" is Infinity), or why it could not be read. */
export function readOpenFileLimit(limitsFile = LIMITS_FILE): OpenFileLimit {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch (err) {
    return { unknown: `cannot read ${limitsFile}: ${(err as Error).message}` };
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return { unknown: `no "Max open files" line in ${limitsFile}` };
  return { soft: match[1] === 'unlimited' ? Infinity : Number(match[1]) };
}

export interface ConnectionBudgetSize {
  readonly maxConnections: number;
  readonly limitedBy: 'open-file limit' | 'memory';
}

export function chooseConnectionBudget(openFileLimit: OpenFileLimit): ConnectionBudgetSize {
  const byMemory = Math.floor(CONNECTION_MEMORY_BUDGET_BYTES / BYTES_PER_CONNECTION);
  const byFiles = 'soft' in openFileLimit ? openFileLimit.soft - RESERVED_FDS : Infinity;
  // A limit below the reserve still leaves room for a prober or two.
  if (byFiles < byMemory) return { maxConnections: Math.max(byFiles, 8), limitedBy: 'open-file limit' };
  return { maxConnections: byMemory, limitedBy: 'memory' };
}
