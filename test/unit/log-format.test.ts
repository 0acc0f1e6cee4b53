import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { formatJsonLine } from '../../src/log/json-line';
import { formatKlogLine } from '../../src/log/klog-text';
import { LogEntry } from '../../src/log/log-entry';
import { Logger } from '../../src/log/logger';

const KLOG_LINE = /^([IWE])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}) {1,7}(\d+) ([\w.-]+):(\d+)\] (.*)$/;

function entry(overrides: Partial<LogEntry>): LogEntry {
  return {
    severity: 'I',
    timeMicros: Date.UTC(2026, 10, 25, 8, 4, 17) * 1000 + 971_029,
    pid: 6022,
    caller: 'src/main.ts:133',
    message: 'CSI driver name',
    error: undefined,
    fields: [['driver', 'hostpath.csi.k8s.io']],
    verbosity: 0,
    ...overrides,
  };
}

test('klog text line has the klog header and structured pairs', () => {
  const line = formatKlogLine(entry({}));
  const match = KLOG_LINE.exec(line.trimEnd());
  assert.ok(match, line);
  assert.equal(match[1], 'I');
  assert.equal(match[7], '971029');
  assert.equal(line.slice(line.indexOf('.') + 8, line.indexOf(' main.ts')), '   6022'); // pid right-aligned in 7
  assert.equal(match[9], 'main.ts');
  assert.equal(match[10], '133');
  assert.equal(match[11], '"CSI driver name" driver="hostpath.csi.k8s.io"');
});

test('klog renders errors first, numbers bare, quotes escaped, multi-line values as blocks', () => {
  const line = formatKlogLine(
    entry({ severity: 'E', message: 'Health check failed', error: 'rpc error: code = Internal desc = "x"', fields: [['count', 3], ['text', 'a\nb']] }),
  );
  assert.match(line, /^E/);
  assert.ok(line.endsWith('] "Health check failed" err="rpc error: code = Internal desc = \\"x\\"" count=3 text=<\n\ta\n\tb\n >\n'), line);
});

test('JSON line has the component-base shape', () => {
  const info = JSON.parse(formatJsonLine(entry({ verbosity: 5 })));
  assert.deepEqual(Object.keys(info), ['ts', 'caller', 'msg', 'v', 'driver']);
  assert.equal(info.ts, Date.UTC(2026, 10, 25, 8, 4, 17) + 971.029);
  assert.equal(info.caller, 'src/main.ts:133'); // zap's short caller, as upstream's "livenessprobe/main.go:133"
  assert.equal(info.v, 5);
  const error = JSON.parse(formatJsonLine(entry({ severity: 'E', error: 'boom', fields: [] })));
  assert.deepEqual(error, { ts: info.ts, caller: 'src/main.ts:133', msg: 'CSI driver name', err: 'boom' });
});

test('logger gates by -v, splits streams and names the calling file', () => {
  const infoLines: string[] = [];
  const errorLines: string[] = [];
  const sink = (into: string[]) => new Writable({ write: (chunk, _enc, done) => (into.push(String(chunk)), done()) });
  const logger = new Logger({ format: 'text', verbosity: 2, infoStream: sink(infoLines), errorStream: sink(errorLines) });
  logger.infoAt(2, 'shown');
  logger.infoAt(3, 'hidden');
  logger.warning('careful');
  logger.error(new Error('boom'), 'failed');
  assert.equal(infoLines.length, 2);
  // Found from the stack through tsc's source map: this file's .ts name and the call's line in it.
  const source = fs.readFileSync(path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'log-format.test.ts'), 'utf8').split('\n');
  assert.match(infoLines[0], new RegExp(` log-format\\.test\\.ts:${source.indexOf("  logger.infoAt(2, 'shown');") + 1}\\] "shown"\n$`));
  assert.match(infoLines[1], /^W.*"careful"/);
  assert.deepEqual(errorLines.length, 1);
  assert.match(errorLines[0], /^E.*"failed" err="boom"\n$/);
  assert.equal(logger.enabled(2), true);
  assert.equal(logger.enabled(3), false);
});
