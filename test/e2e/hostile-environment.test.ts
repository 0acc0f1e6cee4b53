// Issue #16: what the environment may do to the sidecar, and what it must not
// be able to do with it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listeningPorts } from '../helpers/listening';
import { startDriverAndSidecar } from '../helpers/pair';
import { SHIPPED_OPTIONS_COMMAND } from '../helpers/sidecar';

test('SIGUSR1 and SIGUSR2 are ignored: no inspector port opens, /healthz still answers', async (t) => {
  const { sidecar } = await startDriverAndSidecar(t, { sidecarArgs: ['-v=2'], command: SHIPPED_OPTIONS_COMMAND });
  const pid = sidecar.process.pid!;
  const portsBefore = listeningPorts(pid);
  assert.deepEqual(portsBefore, [Number(new URL(sidecar.baseUrl).port)]);
  sidecar.process.kill('SIGUSR1');
  sidecar.process.kill('SIGUSR2');
  await sidecar.waitForLog(/"Ignoring signal" signal="SIGUSR2"/, 5_000);
  // Node's inspector, when SIGUSR1 starts it, listens within milliseconds.
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(listeningPorts(pid), portsBefore);
  assert.doesNotMatch(sidecar.stderr.text, /Debugger listening/);
  assert.equal((await sidecar.request()).status, 200);
  assert.equal(sidecar.process.exitCode, null);
});
