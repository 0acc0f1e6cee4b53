// The single-file bundle (issue #6), built here with the project's own build
// step, copied alone into an empty folder, and run with the container image's
// exact command line (its V8 options; node and the bundle moved to this
// machine's paths): no node_modules anywhere it could look.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test, TestContext } from 'node:test';
import { BUNDLE_FILE_NAME, bundleSidecar, gitCommit, SidecarBundle } from '../../scripts/bundle';
import packageJson from '../../package.json';
import { hostPlatform } from '../../scripts/image/platforms';
import { FakeDriver } from '../helpers/fake-driver';
import { imageCommandOutsideDocker, REPO_ROOT } from '../helpers/image';
import { runSidecarToExit, Sidecar, SidecarCommand } from '../helpers/sidecar';
import { makeTempDir } from '../helpers/tmp';

// Built once for the file; each test copies the bundle into a folder of its own.
const buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lp-bundle-'));
let built: Promise<SidecarBundle> | undefined;
after(() => fs.rmSync(buildDir, { recursive: true, force: true }));

async function bundleAloneInEmptyFolder(t: TestContext): Promise<SidecarCommand> {
  built ??= bundleSidecar(buildDir);
  const { bundlePath: bundle } = await built;
  const lonelyDir = makeTempDir(t);
  fs.copyFileSync(bundle, path.join(lonelyDir, BUNDLE_FILE_NAME));
  assert.deepEqual(fs.readdirSync(lonelyDir), [BUNDLE_FILE_NAME]);
  return imageCommandOutsideDocker(path.join(lonelyDir, BUNDLE_FILE_NAME));
}

test('bundle: --help prints usage and exits 0; --version names the package, version and commit', async (t) => {
  const command = await bundleAloneInEmptyFolder(t);
  const help = await runSidecarToExit(['--help'], 15_000, command);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stderr, /^Usage of csi-livenessprobe:\n/);
  assert.match(help.stderr, /-csi-address string/);

  const version = await runSidecarToExit(['--version'], 15_000, command);
  assert.equal(version.code, 0, version.stderr);
  const commit = gitCommit(); // what the build wrote in
  const expected = `${packageJson.name} ${packageJson.version}${commit ? ` (git commit ${commit})` : ''}, node ${process.version} linux/${hostPlatform()!.architecture}\n`;
  assert.equal(version.stdout, expected);
});

test('bundle: healthy driver -> 200 ok, metrics served (prom-client inside the bundle), dead driver -> 500', async (t) => {
  const command = await bundleAloneInEmptyFolder(t);
  const socketPath = path.join(makeTempDir(t), 'csi.sock');
  const driver = await FakeDriver.start(t, socketPath);
  const sidecar = await Sidecar.start(t, [`--csi-address=${socketPath}`], 15_000, command);
  const healthy = await sidecar.request();
  assert.equal(healthy.status, 200);
  assert.equal(healthy.body, 'ok');
  const metrics = await sidecar.request('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, /^csi_sidecar_operations_seconds_count\{driver_name="test\.csi\.example\.com",grpc_status_code="OK",method_name="\/csi\.v1\.Identity\/Probe"\} 1$/m);
  // prom-client's process CPU series, which load OpenTelemetry's API; the bundle carries a stand-in that throws if used.
  assert.match(metrics.body, /^process_cpu_seconds_total [0-9.e-]+$/m);
  await driver.kill('SIGKILL');
  const failing = await sidecar.request();
  assert.equal(failing.status, 500);
  assert.match(failing.body, /^rpc error: code = Unavailable desc = connect ECONNREFUSED /);
});

// Issue #15: each of these costs resident memory in every pod (node:http2 alone 10 MiB on Node 24, node:http 1.5 MiB).
test("bundle: no node:http2, http, https, tls or crypto; prom-client's Pushgateway and cluster aggregator and OpenTelemetry's API are left out", async () => {
  built ??= bundleSidecar(buildDir);
  const text = fs.readFileSync((await built).bundlePath, 'utf8');
  const builtins = [...text.matchAll(/require\("([^"./][^"]*)"\)/g)].map((match) => match[1].replace(/^node:/, ''));
  for (const unwanted of ['http2', 'http', 'https', 'tls', 'crypto', 'cluster', 'url']) assert.ok(!builtins.includes(unwanted), `the bundle requires ${unwanted}`);
  assert.doesNotMatch(text, /prom-client\/lib\/(pushgateway|cluster)\.js/);
  // Only for exemplars, which the sidecar never enables: a 63 KB API, 0.2-0.4 MiB of idle RSS (scripts/opentelemetry-api-unused.js).
  assert.doesNotMatch(text, /node_modules\/@opentelemetry\//);
  assert.match(text, /bundles no OpenTelemetry API/);
});

// Issue #30: the image must be the same bytes wherever and whenever the commit is built, so the bundle must be.
test('bundle: the same bytes from another working directory and output folder (npm run build\'s command); no path of this machine in it', async (t) => {
  built ??= bundleSidecar(buildDir);
  const ours = fs.readFileSync((await built).bundlePath);
  const otherDir = makeTempDir(t);
  const cli = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist', 'scripts', 'bundle.js'), '--out', otherDir], { cwd: os.tmpdir(), encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  // postject's LIEF warns per ELF note it rewrites; npm run build's output must not be buried under them.
  assert.doesNotMatch(cli.stderr, /Can't find string offset/);
  const theirs = fs.readFileSync(path.join(otherDir, BUNDLE_FILE_NAME));
  assert.ok(ours.equals(theirs), `the bundle built from ${os.tmpdir()} into ${otherDir} differs from the one built into ${buildDir}`);
  const text = ours.toString('utf8');
  for (const hostPath of [REPO_ROOT, buildDir, otherDir, os.tmpdir(), os.homedir()]) assert.ok(!text.includes(hostPath), `the bundle names ${hostPath}`);
  // esbuild's module comments are the only paths it writes: relative to the repository.
  const modulePaths = [...text.matchAll(/^\/\/ (\S+\.(?:ts|js))$/gm)].map((match) => match[1]);
  assert.ok(modulePaths.length > 50, `${modulePaths.length} module comments`);
  assert.deepEqual(modulePaths.filter((modulePath) => !/^(src|scripts|node_modules)\//.test(modulePath)), []);
});
