// Log callers as klog names them ("csi/connection.ts:118" in JSON, "connection.ts:118" in text), written into the bundle at build time.
//
// klog names the Go source file and line of each log call (runtime.Caller). The bundle has
// one file, so a stack frame there names "csi-livenessprobe.js:6771"; source maps would fix
// that at run time only by shipping the map and decoding it, beside a stack capture per line.
// Instead, `npm run build` rewrites each log call in src/ to the Logger's *From method with
// its caller as a literal: `this.logger.warning(msg, f)` becomes
// `this.logger.warningFrom("csi/connection.ts:118", msg, f)`, so the bundle (run by node or as a
// single executable) takes no stack at all. The line is that of the method's name, where V8
// places the call in a stack trace (what dist/ shows through its source map).
//
// Written by hand because no esbuild plugin does this; TypeScript's own parser finds the calls
// (syntax only, no type check: milliseconds per file).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plugin } from 'esbuild';
import type * as TypeScript from 'typescript';

/**
 * TypeScript's compiler, loaded on first use: the test helpers import scripts/bundle.ts for its
 * constants, and loading the compiler (several MB of JavaScript) would slow every test's start.
 */
let loadedTypeScript: typeof TypeScript | undefined;
function typescript(): typeof TypeScript {
  loadedTypeScript ??= require('typescript') as typeof TypeScript;
  return loadedTypeScript;
}

/** The Logger methods that write a line, and the method the rewrite calls instead. */
export const LOG_METHODS: ReadonlyMap<string, string> = new Map([
  ['info', 'infoFrom'],
  ['infoAt', 'infoAtFrom'],
  ['warning', 'warningFrom'],
  ['error', 'errorFrom'],
]);

/** One log call in a source file. */
export interface LogCallSite {
  /** "warning", ... as written. */
  readonly method: string;
  /** 1-based line of the method's name. */
  readonly line: number;
  /** The caller as zap's short caller: the file's folder, base name and `line`, e.g. "csi/connection.ts:118" (text lines show the base name only, as klog). */
  readonly caller: string;
  /** Offsets in the text: the method's name, and just after the call's "(". */
  readonly nameStart: number;
  readonly nameEnd: number;
  readonly argumentsStart: number;
}

/**
 * Whether `receiver` is a Logger: a variable or field named `logger` (the sidecar's one
 * convention, kept by test/unit/log-callers.test.ts), `new Logger(...)`, or `this` inside
 * class Logger itself.
 */
function isLoggerReceiver(receiver: TypeScript.Expression, insideLogger: boolean): boolean {
  const ts = typescript();
  if (ts.isIdentifier(receiver)) return receiver.text === 'logger';
  if (ts.isPropertyAccessExpression(receiver)) return receiver.name.text === 'logger';
  if (ts.isParenthesizedExpression(receiver)) return isLoggerReceiver(receiver.expression, insideLogger);
  if (ts.isNewExpression(receiver)) return ts.isIdentifier(receiver.expression) && receiver.expression.text === 'Logger';
  return receiver.kind === ts.SyntaxKind.ThisKeyword && insideLogger;
}

/** Every log call in `text` (TypeScript source named `fileName`), in source order. */
export function findLogCalls(fileName: string, text: string): LogCallSite[] {
  const ts = typescript();
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const shortPath = `${path.basename(path.dirname(fileName))}/${path.basename(fileName)}`;
  const sites: LogCallSite[] = [];
  const visit = (node: TypeScript.Node, insideLogger: boolean): void => {
    if (ts.isClassDeclaration(node)) insideLogger = node.name?.text === 'Logger';
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
      const { name, expression: receiver } = node.expression;
      if (LOG_METHODS.has(name.text) && isLoggerReceiver(receiver, insideLogger)) {
        const nameStart = name.getStart(source);
        const line = source.getLineAndCharacterOfPosition(nameStart).line + 1;
        sites.push({ method: name.text, line, caller: `${shortPath}:${line}`, nameStart, nameEnd: name.end, argumentsStart: node.arguments.pos });
      }
    }
    ts.forEachChild(node, (child) => visit(child, insideLogger));
  };
  visit(source, false);
  return sites;
}

/** `text` with every log call given its caller (see the header); the same text when it has none. */
export function writeLogCallers(fileName: string, text: string): string {
  const sites = findLogCalls(fileName, text);
  let out = text;
  // From the end, so that earlier offsets stay valid.
  for (const site of [...sites].reverse()) {
    out = out.slice(0, site.nameStart) + LOG_METHODS.get(site.method) + out.slice(site.nameEnd, site.argumentsStart) + `${JSON.stringify(site.caller)}, ` + out.slice(site.argumentsStart);
  }
  return out;
}

/** The esbuild plugin that applies writeLogCallers to every TypeScript file under `sourceDir`. */
export function logCallersPlugin(sourceDir: string): Plugin {
  return {
    name: 'log-callers',
    setup(build) {
      const under = new RegExp(`^${(sourceDir + path.sep).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*\\.ts$`);
      build.onLoad({ filter: under }, async (args) => ({ contents: writeLogCallers(args.path, await fs.promises.readFile(args.path, 'utf8')), loader: 'ts' }));
    },
  };
}
