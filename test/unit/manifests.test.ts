// deploy/kubernetes/: every object validated offline against the Kubernetes
// schemas (kubernetes-models), and the wiring a typo would break checked with
// the sidecar's own flag parser: the port the driver's livenessProbe names is
// the one the sidecar serves, both containers reach the socket at the paths
// their args name, and the sidecar runs locked down.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { parseSidecarOptions } from '../../src/cli/options';
import { normalizeCsiAddress } from '../../src/csi/address';
import { REPO_ROOT } from '../helpers/image';

const MANIFEST_DIR = path.join(REPO_ROOT, 'deploy', 'kubernetes');
const SIDECAR_IMAGE = /\/csi-livenessprobe-ts:v[0-9.]+$/;

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: { template?: { spec: PodSpec } };
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string }[];
  securityContext?: Record<string, unknown>;
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number }; timeoutSeconds?: number };
  readinessProbe?: { httpGet?: { path: string; port: string | number }; timeoutSeconds?: number };
  volumeMounts?: { name: string; mountPath: string }[];
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** A kubernetes-models class for each kind the examples use; its validate() checks the object against the API schema. */
async function validatorFor(apiVersion: string, kind: string): Promise<(object: unknown) => void> {
  const load = async () => {
    switch (`${apiVersion}/${kind}`) {
      case 'apps/v1/DaemonSet':
        return (await import('kubernetes-models/apps/v1/DaemonSet')).DaemonSet;
      case 'apps/v1/Deployment':
        return (await import('kubernetes-models/apps/v1/Deployment')).Deployment;
      case 'v1/ServiceAccount':
        return (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount;
      default:
        throw new Error(`no schema here for ${apiVersion} ${kind}; add it to validatorFor`);
    }
  };
  const Model = (await load()) as unknown as new (data: unknown) => { validate(): void };
  return (object) => new Model(object).validate();
}

function readManifests(): { file: string; objects: KubeObject[] }[] {
  return fs
    .readdirSync(MANIFEST_DIR)
    .filter((name) => name.endsWith('.yaml'))
    .map((file) => {
      const documents = parseAllDocuments(fs.readFileSync(path.join(MANIFEST_DIR, file), 'utf8'));
      for (const document of documents) assert.deepEqual(document.errors, [], file);
      return { file, objects: documents.map((document) => document.toJS() as KubeObject) };
    });
}

function workloads(): { name: string; pod: PodSpec }[] {
  return readManifests().flatMap(({ objects }) =>
    objects.filter((object) => object.spec?.template).map((object) => ({ name: `${object.kind} ${object.metadata.name}`, pod: object.spec!.template!.spec })),
  );
}

/** The mount that holds `filePath`, and the path inside that volume. */
function volumePathOf(container: Container, filePath: string): { volume: string; inside: string } {
  const mount = (container.volumeMounts ?? []).find((m) => filePath.startsWith(m.mountPath.replace(/\/?$/, '/')));
  assert.ok(mount, `${container.name}: no volume mounted over ${filePath}`);
  return { volume: mount.name, inside: path.posix.relative(mount.mountPath, filePath) };
}

const mebibytes = (quantity: string) => {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  assert.ok(match, `memory quantity ${quantity}: use Mi or Gi`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
};

test('every object in deploy/kubernetes validates against the Kubernetes schema', async () => {
  const manifests = readManifests();
  assert.deepEqual(manifests.map((m) => m.file).sort(), ['csi-controller-deployment.yaml', 'csi-node-daemonset.yaml']);
  for (const { file, objects } of manifests) {
    for (const object of objects) {
      const validate = await validatorFor(object.apiVersion, object.kind);
      assert.doesNotThrow(() => validate(object), `${file}: ${object.kind} ${object.metadata.name}`);
    }
  }
});

test('the schema check rejects a broken object (the validator is not a no-op)', async () => {
  const [daemonSet] = readManifests().find((m) => m.file === 'csi-node-daemonset.yaml')!.objects;
  const broken = structuredClone(daemonSet);
  (broken.spec!.template!.spec.containers[0].ports![0] as { containerPort: unknown }).containerPort = 'nine-eight-oh-eight';
  const validate = await validatorFor(broken.apiVersion, broken.kind);
  assert.throws(() => validate(broken));
});

test('wiring: the probed port is the one the sidecar serves, and the kubelet waits at least --probe-timeout', () => {
  for (const { name, pod } of workloads()) {
    const sidecar = pod.containers.find((c) => SIDECAR_IMAGE.test(c.image));
    assert.ok(sidecar, `${name}: no csi-livenessprobe-ts container`);
    assert.equal(sidecar.command, undefined, `${name}: pass args only; the image's ENTRYPOINT is the sidecar`);
    const options = parseSidecarOptions(sidecar.args ?? []);
    const probed = pod.containers.filter((c) => c.livenessProbe?.httpGet);
    assert.equal(probed.length, 1, `${name}: one container (the driver) has the httpGet livenessProbe`);
    const [driver] = probed;
    const probe = driver.livenessProbe!;
    assert.equal(probe.httpGet!.path, '/healthz');
    const port = typeof probe.httpGet!.port === 'number' ? probe.httpGet!.port : driver.ports?.find((p) => p.name === probe.httpGet!.port)?.containerPort;
    assert.equal(port, options.healthListen.port, `${name}: the probe's port ${String(probe.httpGet!.port)}`);
    assert.ok([undefined, '0.0.0.0', '::'].includes(options.healthListen.host), `${name}: the kubelet probes the pod IP; the sidecar listens on ${options.healthListen.host}`);
    assert.ok((probe.timeoutSeconds ?? 1) * 1000 >= options.probeTimeoutMs, `${name}: timeoutSeconds below --probe-timeout`);
  }
});

test('issue #28: wiring: the driver\'s readinessProbe asks the sidecar\'s /readyz on the port it serves, waiting at least --probe-timeout', () => {
  for (const { name, pod } of workloads()) {
    const sidecar = pod.containers.find((c) => SIDECAR_IMAGE.test(c.image))!;
    const options = parseSidecarOptions(sidecar.args ?? []);
    const driver = pod.containers.find((c) => c.livenessProbe)!;
    const probe = driver.readinessProbe;
    assert.ok(probe?.httpGet, `${name}: the driver has no httpGet readinessProbe`);
    assert.equal(probe.httpGet.path, '/readyz', name);
    assert.notEqual(options.metricsPath, '/readyz', `${name}: --metrics-path would take /readyz`);
    const port = typeof probe.httpGet.port === 'number' ? probe.httpGet.port : driver.ports?.find((p) => p.name === probe.httpGet!.port)?.containerPort;
    assert.equal(port, options.healthListen.port, `${name}: the readinessProbe's port ${String(probe.httpGet.port)}`);
    assert.ok((probe.timeoutSeconds ?? 1) * 1000 >= options.probeTimeoutMs, `${name}: timeoutSeconds below --probe-timeout`);
  }
});

test('wiring: the sidecar and the driver reach the same socket file through the same volume', () => {
  for (const { name, pod } of workloads()) {
    const sidecar = pod.containers.find((c) => SIDECAR_IMAGE.test(c.image))!;
    const driver = pod.containers.find((c) => c.livenessProbe)!;
    const sidecarSocket = parseSidecarOptions(sidecar.args ?? []).csiAddress.socketPath;
    assert.ok(sidecarSocket, `${name}: the sidecar's --csi-address is not a unix socket`);
    const endpointArg = (driver.args ?? []).find((arg) => arg.startsWith('--endpoint='));
    assert.ok(endpointArg, `${name}: the driver has no --endpoint argument`);
    const driverAddress = normalizeCsiAddress(endpointArg.slice('--endpoint='.length));
    assert.ok(typeof driverAddress !== 'string' && driverAddress.socketPath, `${name}: ${endpointArg}`);
    assert.deepEqual(volumePathOf(sidecar, sidecarSocket), volumePathOf(driver, driverAddress.socketPath), name);
    const volume = volumePathOf(sidecar, sidecarSocket).volume;
    assert.ok(pod.volumes?.some((v) => v.name === volume), `${name}: volume ${volume} is not declared`);
  }
});

test('the sidecar runs locked down and with memory sized from the benchmark', () => {
  for (const { name, pod } of workloads()) {
    const sidecar = pod.containers.find((c) => SIDECAR_IMAGE.test(c.image))!;
    const security = { ...pod.securityContext, ...sidecar.securityContext };
    assert.equal(security.runAsNonRoot, true, name);
    assert.equal(security.runAsUser, 65532, name);
    assert.equal(security.allowPrivilegeEscalation, false, name);
    assert.equal(security.readOnlyRootFilesystem, true, name);
    assert.deepEqual(sidecar.securityContext?.capabilities?.drop, ['ALL'], name);
    const requested = mebibytes(sidecar.resources?.requests?.memory ?? '0Mi');
    const limit = mebibytes(sidecar.resources?.limits?.memory ?? '0Mi');
    // The benchmark's figures (README, "Sizing"; docs/performance.md).
    assert.ok(requested >= 50 && limit >= 67 * 1.25 && requested <= limit, `${name}: requests ${requested} Mi, limit ${limit} Mi`);
  }
});
