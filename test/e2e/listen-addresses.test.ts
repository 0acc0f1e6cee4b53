// Where the sidecar listens, as Go's net.Listen would (issue #20): an
// unspecified host listens on IPv6 and IPv4 both, so a kubelet probing the
// pod's IPv6 address (IPv6-only and IPv6-primary clusters) is answered; IP
// literals bind themselves; a host name binds its first IPv4 address, else
// its first address. Probed across a veth link from a namespace of its own.

import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { FakeDriver } from '../helpers/fake-driver';
import { createPodNetwork, POD_IPV4, POD_IPV6 } from '../helpers/pod-network';
import { Sidecar } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

const BOTH = 'IPv6 and IPv4';
type Reach = 'ok' | 'ECONNREFUSED';

interface Case {
  readonly flags: readonly string[];
  /** The address and IP versions the start-up line names. */
  readonly logged: string;
  readonly ipv6: Reach;
  readonly ipv4: Reach;
  readonly path?: string;
  readonly port?: number;
}

const CASES: readonly Case[] = [
  { flags: ['--health-port=9808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: ['--http-endpoint=0.0.0.0:9808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: ['--http-endpoint=:9808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: ['--http-endpoint=[::]:9808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: ['--http-endpoint=[::ffff:0.0.0.0]:9808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: [`--http-endpoint=[${POD_IPV6}]:9808`], logged: `address="[${POD_IPV6}]:9808" ipVersions="IPv6"`, ipv6: 'ok', ipv4: 'ECONNREFUSED' },
  { flags: [`--http-endpoint=${POD_IPV4}:9808`], logged: `address="${POD_IPV4}:9808" ipVersions="IPv4"`, ipv6: 'ECONNREFUSED', ipv4: 'ok' },
  // An IPv4-mapped literal is an IPv4 address to Go.
  { flags: [`--http-endpoint=[::ffff:${POD_IPV4}]:9808`], logged: `address="${POD_IPV4}:9808" ipVersions="IPv4"`, ipv6: 'ECONNREFUSED', ipv4: 'ok' },
  // A name with both: Go binds the first IPv4 address, whatever the order of the answers.
  { flags: ['--http-endpoint=pod.test:9808'], logged: `address="${POD_IPV4}:9808" ipVersions="IPv4"`, ipv6: 'ECONNREFUSED', ipv4: 'ok' },
  { flags: ['--http-endpoint=pod6.test:9808'], logged: `address="[${POD_IPV6}]:9808" ipVersions="IPv6"`, ipv6: 'ok', ipv4: 'ECONNREFUSED' },
  // The port as Go's LookupPort reads it: leading zeros, and a service name.
  { flags: ['--http-endpoint=:09808'], logged: `address="[::]:9808" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok' },
  { flags: ['--http-endpoint=:http'], logged: `address="[::]:80" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok', port: 80 },
  // The separate metrics listener follows the same rules.
  { flags: ['--metrics-address=:9809'], logged: `"Separate metrics ServeMux listening" address="[::]:9809" ipVersions="${BOTH}"`, ipv6: 'ok', ipv4: 'ok', path: '/metrics', port: 9809 },
];

const HOSTS = `127.0.0.1 localhost\n::1 localhost\n${POD_IPV6} pod.test\n${POD_IPV4} pod.test\n${POD_IPV6} pod6.test\n`;

test('listen addresses bind as Go net.Listen, probed from another namespace over IPv6 and IPv4 (#20)', async (t) => {
  const network = createPodNetwork(t, HOSTS);
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  await FakeDriver.start(t, socketPath);
  for (const c of CASES) {
    const sidecar = Sidecar.spawn(t, [`--csi-address=${socketPath}`, ...c.flags], network.sidecarCommand);
    try {
      await sidecar.waitForLog(/"CSI driver name"/, 15_000);
      const port = c.port ?? 9808;
      const urlPath = c.path ?? '/healthz';
      for (const [family, host, expected] of [['IPv6', `[${POD_IPV6}]`, c.ipv6], ['IPv4', POD_IPV4, c.ipv4]] as const) {
        const result = await network.probeFromKubelet(`http://${host}:${port}${urlPath}`);
        const reach = 'status' in result && result.status === 200 ? 'ok' : 'error' in result ? result.error : `HTTP ${result.status}`;
        assert.equal(reach, expected, `${c.flags.join(' ')}: GET ${urlPath} over ${family}: ${JSON.stringify(result)}`);
      }
      assert.match(sidecar.stderr.text, new RegExp(c.logged.replace(/[[\]().*+?]/g, '\\$&')), `${c.flags.join(' ')}: start-up lines:\n${sidecar.stderr.text}`);
    } finally {
      await sidecar.kill();
    }
  }
});
