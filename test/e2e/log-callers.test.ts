// Log callers as klog names them (issue #35): every line's caller is "<source base name>.ts:<line>",
// and that line of that source file holds the log call that wrote it, in text and JSON, from
// the bundle `npm run build` writes (callers written in at build time, scripts/log-callers.ts)
// and from tsc's build in dist/ (callers found from the stack through tsc's source maps).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test, TestContext } from 'node:test';
import { bundleSidecar, SidecarBundle } from '../../scripts/bundle';
import { findLogCalls, writeLogCallers } from '../../scripts/log-callers';
import { FakeDriver } from '../helpers/fake-driver';
import { imageCommandOutsideDocker, REPO_ROOT } from '../helpers/image';
import { DIST_COMMAND, Sidecar, SidecarCommand } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const SOURCE_DIR = path.join(REPO_ROOT, 'src');
const LOG_CALL = /\.(info|infoAt|warning|error)\(/g;

function sourceFiles(dir = SOURCE_DIR): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-log-callers-'));
let built: Promise<SidecarBundle> | undefined;
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

async function bundleCommand(): Promise<SidecarCommand> {
  built ??= bundleSidecar(buildDir);
  return imageCommandOutsideDocker((await built).bundlePath);
}

/** The caller and message of a text or JSON line. */
function callerAndMessage(line: string): { caller: string; message: string } {
  if (line.startsWith('{')) {
    const record = JSON.parse(line) as { caller: string; msg: string };
    return { caller: record.caller, message: record.msg };
  }
  const match = /^[IWE]\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ (\S+)\] "((?:[^"\\]|\\.)*)"/.exec(line);
  assert.ok(match, `not a klog line: ${line}`);
  return { caller: match[1], message: JSON.parse(`"${match[2]}"`) as string };
}

/**
 * Asserts that `caller` is "<base name>.ts:<line>" (text, as klog) or "<folder>/<base name>.ts:<line>"
 * (JSON, as zap's short caller: upstream's "livenessprobe/main.go:133") of exactly one file under src/, that the line
 * holds a Logger call (checked on the text, not with the build's own parser), and that the call
 * starting there logs `message` (its first words, for messages built from a template).
 */
function assertCallerHoldsCall(caller: string, message: string, line: string): void {
  const json = line.startsWith('{');
  const match = (json ? /^([\w.-]+)\/([\w.-]+\.ts):(\d+)$/ : /^()([\w.-]+\.ts):(\d+)$/).exec(caller);
  assert.ok(match, `caller ${caller} is not ${json ? '<folder>/' : ''}<file>.ts:<line>: ${line}`);
  const files = sourceFiles().filter((file) => path.basename(file) === match[2] && (!json || path.basename(path.dirname(file)) === match[1]));
  assert.equal(files.length, 1, `caller ${caller}: ${files.length} source files named ${match[2]}`);
  const sourceLines = fs.readFileSync(files[0], 'utf8').split('\n');
  const lineNumber = Number(match[3]);
  const sourceLine = sourceLines[lineNumber - 1] ?? '';
  assert.match(sourceLine, /\.(info|infoAt|warning|error)\(/, `${caller} is not a log call: ${JSON.stringify(sourceLine)} (line ${line})`);
  const call = sourceLines.slice(lineNumber - 1, lineNumber + 4).join('\n');
  // The message argument: after the -v level of infoAt and the error of error.
  const argument = /\.(?:info|warning)\(\s*(.*)|\.(?:infoAt|error)\([^,]+,\s*(.*)/s.exec(call.slice(call.search(/\.(info|infoAt|warning|error)\(/)))!;
  const messageArgument = argument[1] ?? argument[2];
  if (/^[A-Za-z_]/.test(messageArgument)) return; // a variable (a listener's message): no text to compare
  const words = message.split(/[:;,(]/)[0].replace(/'/g, "\\'").slice(0, 30);
  assert.ok(messageArgument.includes(words), `${caller} does not log ${JSON.stringify(message)}: ${JSON.stringify(call)}`);
}

/**
 * Runs a sidecar through start-up, a healthy check at -v=5, a driver killed (a failed
 * check, a lost connection) and SIGTERM: lines from sidecar.ts, connection.ts,
 * health-check.ts and shutdown.ts. Returns its log lines.
 */
async function logLinesOfARun(t: TestContext, command: SidecarCommand, format: 'text' | 'json'): Promise<string[]> {
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  const driver = await FakeDriver.start(t, socketPath);
  const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`, '-v=5', `--logging-format=${format}`], 15_000, command);
  assert.equal((await sidecar.request()).status, 200);
  await sidecar.waitForLog(/Health check succeeded/, 5_000);
  await driver.kill('SIGKILL');
  assert.equal((await sidecar.request()).status, 500);
  await sidecar.waitForLog(/Lost connection to CSI driver/, 5_000);
  await sidecar.waitForLog(/Health check failed/, 5_000);
  const exit = await sidecar.kill('SIGTERM');
  assert.equal(exit.code, 0, sidecar.stderr.text);
  return sidecar.stderr.lines.filter((line) => line !== '');
}

for (const [build, command] of [
  ['bundle', bundleCommand],
  ['dist', async () => DIST_COMMAND],
] as const) {
  for (const format of ['text', 'json'] as const) {
    test(`${build}, ${format}: every line's caller is <source>.ts:<line> (JSON: <folder>/<source>.ts:<line>) holding its log call, from several modules`, async (t) => {
      const lines = await logLinesOfARun(t, await command(), format);
      const files = new Set<string>();
      for (const line of lines) {
        const { caller, message } = callerAndMessage(line);
        assertCallerHoldsCall(caller, message, line);
        files.add(caller.replace(/:\d+$/, '').replace(/^.*\//, ''));
      }
      for (const file of ['sidecar.ts', 'connection.ts', 'health-check.ts', 'shutdown.ts']) assert.ok(files.has(file), `no line from ${file}: ${lines.join('\n')}`);
    });
  }
}

test('bundle and dist name the same callers for the same lines', async (t) => {
  const [fromBundle, fromDist] = await Promise.all([logLinesOfARun(t, await bundleCommand(), 'json'), logLinesOfARun(t, DIST_COMMAND, 'json')]);
  const callers = (lines: string[]) => new Map(lines.map((line) => [callerAndMessage(line).message, callerAndMessage(line).caller]));
  const bundleCallers = callers(fromBundle);
  for (const [message, caller] of callers(fromDist)) {
    if (bundleCallers.has(message)) assert.equal(bundleCallers.get(message), caller, message);
  }
});

// A log call the build does not recognise would name the bundle's line again: every call
// written as `<receiver>.info(`, `.infoAt(`, `.warning(` or `.error(` in src/ must be one.
test('the build rewrites every log call in src/ (receivers named `logger`), and only lines within them', () => {
  for (const file of sourceFiles()) {
    const text = fs.readFileSync(file, 'utf8');
    const sites = findLogCalls(file, text);
    const written = [...text.matchAll(LOG_CALL)].map((match) => text.slice(0, match.index).split('\n').length);
    assert.deepEqual(
      sites.map((site) => site.line),
      written,
      `${path.relative(REPO_ROOT, file)}: calls the build finds (left) against calls written (right); name the Logger \`logger\` where it is called`,
    );
    const rewritten = writeLogCallers(file, text);
    assert.equal(rewritten.split('\n').length, text.split('\n').length, `${file}: the rewrite must keep every line where it is`);
    for (const site of sites) assert.ok(rewritten.split('\n')[site.line - 1].includes(`From(${JSON.stringify(site.caller)}, `), `${site.caller} not rewritten`);
  }
});
