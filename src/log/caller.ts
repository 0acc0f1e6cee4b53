// The caller of a log method found from the stack, for code run without the callers the
// bundle's build writes in (scripts/log-callers.ts): tsc's output in dist/, run by the tests
// and `npm start`. A frame there names dist/src/csi/connection.js and its line; the source
// map tsc writes beside it (tsconfig.json's sourceMap) gives connection.ts and the line in
// it, so that both builds name callers the same way. Each map is read once per file, with
// Node's own SourceMap class; each caller is resolved once per call site.

import * as fs from 'node:fs';
import type { SourceMap, SourceMapPayload } from 'node:module';
import * as path from 'node:path';

/** tsc's maps of the sidecar's files are a few KiB; a larger file is not one of them. */
const MAX_SOURCE_MAP_BYTES = 1024 * 1024;
/** The sidecar has about 40 log calls; past this many sites, callers are resolved again each time. */
const MAX_CACHED_CALLERS = 1000;

/** Source maps by generated file; null for a file without one (or one that cannot be read). */
const sourceMaps = new Map<string, SourceMap | null>();
/** Resolved callers by "file:line:column" of the frame. */
const resolvedCallers = new Map<string, string>();

function sourceMapOf(file: string): SourceMap | null {
  let map = sourceMaps.get(file);
  if (map !== undefined) return map;
  map = null;
  try {
    const mapFile = `${file}.map`;
    if (fs.statSync(mapFile).size <= MAX_SOURCE_MAP_BYTES) {
      // Loaded here, not at the top: the bundle, whose log calls name their callers, never needs it.
      const { SourceMap: SourceMapClass } = require('node:module') as typeof import('node:module');
      map = new SourceMapClass(JSON.parse(fs.readFileSync(mapFile, 'utf8')) as SourceMapPayload);
    }
  } catch {
    // No map (the bundle, a file not built by tsc) or an unreadable one: the generated file's line stands.
  }
  sourceMaps.set(file, map);
  return map;
}

/** The file's folder and base name, "csi/connection.ts": zap's short caller, which the JSON lines carry. */
function shortPath(file: string): string {
  return `${path.basename(path.dirname(file))}/${path.basename(file)}`;
}

/** "csi/file.ts:line" for a frame at `line`/`column` (1-based) of `file`, through its source map when it has one. */
function resolveCaller(file: string, line: number, column: number): string {
  const entry = sourceMapOf(file)?.findEntry(line - 1, column - 1);
  if (entry && 'originalSource' in entry) {
    const source = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : entry.originalSource;
    return `${shortPath(source)}:${entry.originalLine + 1}`;
  }
  return `${shortPath(file)}:${line}`;
}

/**
 * The caller ("csi/connection.ts:118": folder, base name and line; text lines show "connection.ts:118") of the code that called `logFunction`.
 * Costs a one-frame stack capture per call; the bundle's log calls pass their caller instead.
 */
export function callerOf(logFunction: Function): string {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_holder, callSites) => callSites;
  Error.stackTraceLimit = 1;
  const holder: { stack?: NodeJS.CallSite[] } = {};
  Error.captureStackTrace(holder, logFunction);
  const site = holder.stack?.[0];
  Error.prepareStackTrace = savedPrepare;
  Error.stackTraceLimit = savedLimit;
  const file = site?.getFileName();
  if (!site || !file) return '???:0';
  const line = site.getLineNumber() ?? 0;
  const column = site.getColumnNumber() ?? 0;
  const key = `${file}:${line}:${column}`;
  let caller = resolvedCallers.get(key);
  if (caller === undefined) {
    caller = resolveCaller(file.startsWith('file://') ? new URL(file).pathname : file, line, column);
    if (resolvedCallers.size < MAX_CACHED_CALLERS) resolvedCallers.set(key, caller);
  }
  return caller;
}
