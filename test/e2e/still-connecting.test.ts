// Start-up's "Still connecting" warning says why at -v=0 (issue #33): a
// sidecar refused its driver's socket must say so in the log the operator
// reads, not only in a /healthz body the kubelet's event does not show.
//
// The test driver runs as root (as node plugins do) and the sidecar as a
// non-root user, as a hardened pod spec runs it. The tests run as root.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { FakeDriver } from '../helpers/fake-driver';
import { DIST_COMMAND, Sidecar, SidecarCommand } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

/** The distroless "nonroot" user and group, which hardened images run as. */
const NON_ROOT_ID = 65532;
const AS_NON_ROOT: SidecarCommand = { ...DIST_COMMAND, uid: NON_ROOT_ID, gid: NON_ROOT_ID };
/** A driver that runs as a non-root user of its own. */
const DRIVER_UID = 1000;
/** Root with no capabilities at all (util-linux's setpriv empties the bounding and inheritable sets before exec). */
const AS_ROOT_WITHOUT_CAPABILITIES: SidecarCommand = {
  executable: 'setpriv',
  leadingArgs: ['--inh-caps=-all', '--bounding-set=-all', '--', DIST_COMMAND.executable, ...DIST_COMMAND.leadingArgs],
};
/** The first warning comes 10 s after start-up; the margin covers a loaded machine. */
const FIRST_WARNING_WITHIN_MS = 15_000;

const escapeForRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The warning for `address`: upstream's words first, then `err` and `hint` matching the given patterns. */
function stillConnectingLine(address: string, err: string, hint: string): RegExp {
  return new RegExp(`^W.*\\] "Still connecting to ${escapeForRegExp(address)}" err="${err}" hint="${hint}"$`);
}

/** A temp dir other users may search, as the socket directory a node plugin shares with its sidecars. */
function makeSearchableDir(t: Parameters<typeof makeTempDir>[0]): string {
  const dir = makeTempDir(t);
  fs.chmodSync(dir, 0o755);
  return dir;
}

/**
 * Spawns the sidecar against `csiAddress` on a port of its own (as `command` runs it; the tests' own user when
 * absent) and waits for its first "Still connecting" line. Returns both; throws when either does not come in time.
 */
async function startUntilStillConnecting(t: TestContext, csiAddress: string, command?: SidecarCommand): Promise<{ sidecar: Sidecar; line: string }> {
  const sidecar = Sidecar.spawn(t, [`--csi-address=${csiAddress}`, '--http-endpoint=127.0.0.1:0'], command);
  await sidecar.waitUntilServing(FIRST_WARNING_WITHIN_MS);
  return { sidecar, line: await sidecar.stderr.waitForLine(/Still connecting/, FIRST_WARNING_WITHIN_MS) };
}

describe('"Still connecting" names the last connect error and what to do', { concurrency: true }, () => {
  test('EACCES: a non-root sidecar and a root-owned 0755 socket: permission denied, the owner, the mode, the sidecar\'s uid/gid, both fixes', async (t) => {
    const socketPath = path.join(makeSearchableDir(t), 'csi.sock');
    await FakeDriver.start(t, socketPath);
    // What a root driver's socket is under the default umask 022, whatever the test runner's umask.
    fs.chmodSync(socketPath, 0o755);
    const { sidecar, line } = await startUntilStillConnecting(t, socketPath, AS_NON_ROOT);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${socketPath}`,
        `rpc error: code = Unavailable desc = connect EACCES ${escapeForRegExp(socketPath)} \\(permission denied on the CSI driver socket\\)`,
        `permission denied: the socket is owned by 0:0, mode 0755; the sidecar runs as uid ${NON_ROOT_ID}, gid ${NON_ROOT_ID}, no supplementary groups, ` +
          "and connect\\(\\) needs write permission on the socket\\. Run the sidecar as the socket's owner \\(e\\.g\\. as root, as upstream's image does: " +
          "drop runAsUser/runAsNonRoot from this container's securityContext\\), or have the driver make the socket group-writable \\(0660\\) " +
          "for a group the sidecar has \\(the pod's supplementalGroups or runAsGroup\\)",
      ),
    );
    // The same sidecar is let in once the driver does what the warning says.
    fs.chownSync(socketPath, 0, NON_ROOT_ID);
    fs.chmodSync(socketPath, 0o660);
    await sidecar.waitForLog(/"CSI driver name"/, 10_000);
    assert.equal((await sidecar.request()).status, 200);
  });

  // Root is refused a socket only when its capabilities are dropped (a securityContext with
  // `capabilities: drop: [ALL]` and no runAsUser): "run it as root" is then no fix.
  test('EACCES as root without capabilities: names the missing CAP_DAC_OVERRIDE and the socket owner\'s uid, not "run as root"', async (t) => {
    const socketPath = path.join(makeSearchableDir(t), 'csi.sock');
    await FakeDriver.start(t, socketPath);
    // A driver running as uid 1000 with umask 022.
    fs.chownSync(socketPath, DRIVER_UID, DRIVER_UID);
    fs.chmodSync(socketPath, 0o755);
    const { line } = await startUntilStillConnecting(t, socketPath, AS_ROOT_WITHOUT_CAPABILITIES);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${socketPath}`,
        `rpc error: code = Unavailable desc = connect EACCES ${escapeForRegExp(socketPath)} \\(permission denied on the CSI driver socket\\)`,
        `permission denied: the socket is owned by ${DRIVER_UID}:${DRIVER_UID}, mode 0755; the sidecar runs as uid 0, gid 0, no supplementary groups, ` +
          'without the capability CAP_DAC_OVERRIDE \\(the container\'s capabilities are dropped\\), so the socket\'s mode binds root too, and connect\\(\\) needs write permission on the socket\\. ' +
          `Run the sidecar as the socket's owner \\(runAsUser: ${DRIVER_UID}\\), or add CAP_DAC_OVERRIDE to this container's capabilities, ` +
          "or have the driver make the socket group-writable \\(0660\\) for a group the sidecar has \\(the pod's supplementalGroups or runAsGroup\\)",
      ),
    );
  });

  test('EACCES from a directory: names the directory the sidecar may not search', async (t) => {
    const dir = makeTempDir(t); // 0700, root's
    const socketPath = path.join(dir, 'csi.sock');
    await FakeDriver.start(t, socketPath);
    fs.chmodSync(socketPath, 0o777); // the socket itself would let anyone in
    const { line } = await startUntilStillConnecting(t, socketPath, AS_NON_ROOT);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${socketPath}`,
        `rpc error: code = Unavailable desc = connect EACCES ${escapeForRegExp(socketPath)} \\(permission denied on the CSI driver socket\\)`,
        `permission denied: the directory ${escapeForRegExp(dir)} \\(owner 0:0, mode 0700\\) does not let the sidecar \\(uid ${NON_ROOT_ID}, gid ${NON_ROOT_ID}, no supplementary groups\\) ` +
          'search it \\(x permission\\)[^"]*',
      ),
    );
  });

  test('EACCES through a symbolic link: names the link\'s target and its directory the sidecar may not search', async (t) => {
    const hiddenDir = makeTempDir(t); // 0700, root's
    const socketPath = path.join(hiddenDir, 'csi.sock');
    await FakeDriver.start(t, socketPath);
    fs.chmodSync(socketPath, 0o777);
    const linkPath = path.join(makeSearchableDir(t), 'csi.sock');
    fs.symlinkSync(socketPath, linkPath);
    const { line } = await startUntilStillConnecting(t, linkPath, AS_NON_ROOT);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${linkPath}`,
        `rpc error: code = Unavailable desc = connect EACCES ${escapeForRegExp(linkPath)} \\(permission denied on the CSI driver socket\\)`,
        `permission denied \\(${escapeForRegExp(linkPath)} is a symbolic link to ${escapeForRegExp(socketPath)}\\): the directory ${escapeForRegExp(hiddenDir)} \\(owner 0:0, mode 0700\\) ` +
          `does not let the sidecar \\(uid ${NON_ROOT_ID}, gid ${NON_ROOT_ID}, no supplementary groups\\) search it \\(x permission\\)[^"]*`,
      ),
    );
  });

  test('ENOENT: the socket does not exist yet, or the sidecar looks elsewhere', async (t) => {
    const socketPath = path.join(makeSearchableDir(t), 'csi.sock');
    const { line } = await startUntilStillConnecting(t, socketPath, AS_NON_ROOT);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${socketPath}`,
        `rpc error: code = Unavailable desc = connect ENOENT ${escapeForRegExp(socketPath)} \\(the CSI driver socket does not exist\\)`,
        'the socket does not exist \\(yet\\): the CSI driver has not created it \\(still starting, or exited before listening\\), or the driver listens elsewhere: ' +
          "--csi-address and both containers' volume mounts must name the same file",
      ),
    );
  });

  test('ENOENT through a dangling symbolic link: names the link\'s target', async (t) => {
    const target = path.join(makeSearchableDir(t), 'csi.sock');
    const linkPath = path.join(makeSearchableDir(t), 'csi.sock');
    fs.symlinkSync(target, linkPath);
    const { line } = await startUntilStillConnecting(t, linkPath, AS_NON_ROOT);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${linkPath}`,
        '[^"]*connect ENOENT[^"]*',
        `${escapeForRegExp(linkPath)} is a symbolic link to ${escapeForRegExp(target)}, which does not exist: the CSI driver has not created its socket there \\(yet\\), ` +
          'or the link names another file than the one the driver listens on',
      ),
    );
  });

  test('ENOENT with no directory: the volume is not mounted where --csi-address points', async (t) => {
    const missingDir = path.join(makeSearchableDir(t), 'not-mounted');
    const socketPath = path.join(missingDir, 'csi.sock');
    const { line } = await startUntilStillConnecting(t, socketPath, AS_NON_ROOT);
    assert.match(line, stillConnectingLine(`unix://${socketPath}`, '[^"]*connect ENOENT[^"]*', `the socket's directory ${escapeForRegExp(missingDir)} does not exist: [^"]*volume mount[^"]*`));
  });

  test('ECONNREFUSED: a stale socket whose driver died', async (t) => {
    const socketPath = path.join(makeSearchableDir(t), 'csi.sock');
    const driver = await FakeDriver.start(t, socketPath);
    await driver.kill('SIGKILL'); // the socket file stays, and nothing accepts on it
    assert.ok(fs.statSync(socketPath).isSocket(), 'the killed driver left its socket');
    const { line } = await startUntilStillConnecting(t, socketPath);
    assert.match(
      line,
      stillConnectingLine(
        `unix://${socketPath}`,
        `rpc error: code = Unavailable desc = connect ECONNREFUSED ${escapeForRegExp(socketPath)} \\(no process accepts connections on the CSI driver socket\\)`,
        'the socket file exists but no process accepts connections on it: the CSI driver exited or has not begun listening yet \\(a stale socket left by a driver that stopped\\)[^"]*',
      ),
    );
  });

  test('ECONNREFUSED on TCP: nothing listens at host:port', async (t) => {
    const port = await closedLoopbackPort();
    const address = `127.0.0.1:${port}`;
    const { line } = await startUntilStillConnecting(t, address);
    assert.match(
      line,
      stillConnectingLine(
        address,
        `[^"]*ECONNREFUSED[^"]*`,
        `nothing accepts connections at ${escapeForRegExp(address)}: the CSI driver is not running, or listens on another address or port`,
      ),
    );
  });

  // A TCP address whose host name does not resolve never opened a connection: the call that waited on it
  // must say so (not "lost the connection during the call") and carry getaddrinfo's code to the hint.
  // ".invalid" never resolves (RFC 6761 section 6.4); a resolver that cannot be reached gives EAI_AGAIN.
  test('ENOTFOUND on TCP: the host name in --csi-address does not resolve', async (t) => {
    const address = 'csi-driver.invalid:10000';
    const { line } = await startUntilStillConnecting(t, address);
    assert.match(
      line,
      stillConnectingLine(
        address,
        `rpc error: code = Unavailable desc = connection to ${escapeForRegExp(address)} failed: getaddrinfo (ENOTFOUND|EAI_AGAIN) csi-driver\\.invalid`,
        `(the host name in ${escapeForRegExp(address)} does not resolve: check the name in --csi-address|the name lookup for ${escapeForRegExp(address)} failed for now [^"]*)`,
      ),
    );
  });
});

/** A loopback port nothing listens on: one the kernel just handed out and that was closed again. */
async function closedLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
