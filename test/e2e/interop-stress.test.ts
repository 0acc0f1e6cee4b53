// Issue #12: the sidecar's own gRPC client under load against each gRPC stack
// real CSI drivers run: every answer right, no file descriptor left behind.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { describe, test } from 'node:test';
import { getStatus } from '../../bench/processes';
import { DRIVER_STACKS } from '../helpers/fake-driver';
import { startDriverAndSidecar } from '../helpers/pair';

const openFds = (pid: number) => fs.readdirSync(`/proc/${pid}/fd`).length;

for (const stack of DRIVER_STACKS) {
  describe(`driver on ${stack}`, () => {
    test('16 concurrent checks x 50 rounds, then 2,000 sequential: all 200, no descriptor growth', { timeout: 120_000 }, async (t) => {
      const { sidecar } = await startDriverAndSidecar(t, { driverArgs: ['--quiet'], stack });
      const url = `${sidecar.baseUrl}/healthz`;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
      t.after(() => agent.destroy());
      // Warm-up: the agent's 16 kept-alive connections are open before counting (idle ones may close later).
      assert.deepEqual(await Promise.all(Array.from({ length: 16 }, () => getStatus(url, agent))), Array(16).fill(200));
      const fdsBefore = openFds(sidecar.process.pid!);
      for (let round = 0; round < 50; round++) {
        const statuses = await Promise.all(Array.from({ length: 16 }, () => getStatus(url, agent)));
        assert.deepEqual(statuses, Array(16).fill(200), `round ${round}`);
      }
      for (let i = 0; i < 2_000; i++) assert.equal(await getStatus(url, agent), 200, `check ${i}`);
      const fdsAfter = openFds(sidecar.process.pid!);
      assert.ok(fdsAfter <= fdsBefore, `open descriptors grew from ${fdsBefore} to ${fdsAfter}`);
    });
  });
}
