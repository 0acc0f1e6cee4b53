// Work the sidecar must not do before its first 200 (issue #33): under a
// small CPU limit every millisecond of start-up CPU is ten of wall time.
//
// node:net's IPv6 regular expression costs 10-20 ms of CPU the first time V8
// compiles it (measured); listen() with a host compiles it to check each
// lookup answer. V8's --trace-regexp-parser prints every regular expression
// it parses, so the sidecar's output says whether that one was.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { test } from 'node:test';
import { FakeDriver } from '../helpers/fake-driver';
import { httpRequest } from '../helpers/http';
import { DIST_COMMAND, Sidecar, SidecarCommand } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const TRACE_REGEXPS: SidecarCommand = { ...DIST_COMMAND, leadingArgs: ['--trace-regexp-parser', ...DIST_COMMAND.leadingArgs] };
/** How V8 prints the zone part of node:net's IPv6 pattern, `(?:%[0-9a-zA-Z-.:]{1,})?`: no other pattern of Node's or ours has it. */
const IPV6_PATTERN_TRACE = "'%' (# 1 - g [0-9 a-z A-Z - . :])";

test('the trace shows node:net\'s IPv6 pattern when it is compiled (the check below can fail)', () => {
  const run = spawnSync(process.execPath, ['--trace-regexp-parser', '-e', "require('node:net').isIPv6('::1')"], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.includes(IPV6_PATTERN_TRACE), `V8's trace no longer prints ${IPV6_PATTERN_TRACE}; update it:\n${run.stdout.slice(-2000)}`);
});

for (const endpoint of ['127.0.0.1:0', ':0']) {
  test(`--http-endpoint=${endpoint}: no IPv6 pattern compiled from start to the first 200 and shutdown`, async (t) => {
    const socketPath = path.join(makeTempDir(t), 'csi.sock');
    await FakeDriver.start(t, socketPath);
    const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, `--http-endpoint=${endpoint}`], TRACE_REGEXPS);
    const stdoutClosed = once(sidecar.process.stdout!, 'close');
    await sidecar.waitUntilServing(15_000);
    await sidecar.waitForLog(/"CSI driver name"/, 15_000);
    // The wildcard is logged as "[::]:port"; ask on IPv4 loopback, which it serves too.
    const url = sidecar.baseUrl.replace('[::]', '127.0.0.1');
    assert.equal((await httpRequest(`${url}/healthz`)).status, 200);
    assert.deepEqual(await sidecar.kill('SIGTERM'), { code: 0, signal: null });
    await stdoutClosed;
    assert.ok(sidecar.stdout.lines.length > 0, 'the trace printed the patterns the sidecar compiled');
    const ipv6Lines = sidecar.stdout.lines.filter((line) => line.includes(IPV6_PATTERN_TRACE));
    assert.equal(ipv6Lines.length, 0, 'node:net\'s IPv6 pattern was compiled');
  });
}
