// The container image as the Dockerfile defines it, read with dockerfile-ast:
// its stages and the runtime command line, so tests can check the file and run
// what /livenessprobe runs (node with its V8 options and the bundle) outside a
// container (the image itself runs in test/runtime/image-runtime.test.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, From, Instruction } from 'dockerfile-ast';
import { parse as parseYaml } from 'yaml';
import { SIDECAR_NODE_OPTIONS } from '../../scripts/bundle';
import { SEA_IMAGE_PATH } from '../../scripts/image/sea';
import type { SidecarCommand } from './sidecar';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const DOCKERFILE_PATH = path.join(REPO_ROOT, 'Dockerfile');

export interface ImageStage {
  /** The FROM image, e.g. "gcr.io/distroless/nodejs20-debian12:nonroot". */
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly Instruction[];
}

export function readImageStages(): ImageStage[] {
  const dockerfile = DockerfileParser.parse(fs.readFileSync(DOCKERFILE_PATH, 'utf8'));
  const stages: { image: string; name: string | undefined; instructions: Instruction[] }[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction instanceof From) stages.push({ image: instruction.getImage() ?? '', name: instruction.getBuildStage() ?? undefined, instructions: [] });
    stages[stages.length - 1]?.instructions.push(instruction);
  }
  return stages;
}

/** The runtime stage's ENTRYPOINT, which must be in exec (JSON array) form. */
export function readImageEntrypoint(): string[] {
  const runtime = readImageStages().at(-1)!;
  const entrypoint = runtime.instructions.find((i) => i.getKeyword() === 'ENTRYPOINT');
  if (!entrypoint) throw new Error('the runtime stage has no ENTRYPOINT');
  const raw = entrypoint.getArgumentsContent() ?? '';
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((part) => typeof part === 'string')) throw new Error(`ENTRYPOINT is not in exec form: ${raw}`);
  return parsed;
}

/**
 * What the image's ENTRYPOINT (/livenessprobe, Node.js with the bundle and the V8 options inside,
 * scripts/image/sea.ts) runs, as a command line of this machine: the node running the tests with
 * the V8 options the executable carries (SIDECAR_NODE_OPTIONS) and the bundle at `bundlePath`.
 */
export function imageCommandOutsideDocker(bundlePath: string): SidecarCommand {
  const entrypoint = readImageEntrypoint();
  if (entrypoint.length !== 1 || entrypoint[0] !== SEA_IMAGE_PATH) throw new Error(`ENTRYPOINT is ${JSON.stringify(entrypoint)}, not ["${SEA_IMAGE_PATH}"]`);
  return { executable: process.execPath, leadingArgs: [...SIDECAR_NODE_OPTIONS, bundlePath] };
}

/** The parts of a Kubernetes container spec the runtime test maps to podman flags. */
export interface ManifestContainer {
  readonly name: string;
  readonly args?: string[];
  readonly resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readonly securityContext?: Record<string, unknown>;
  readonly volumeMounts?: { name: string; mountPath: string }[];
  readonly livenessProbe?: { timeoutSeconds?: number };
}

export const NODE_DAEMONSET_PATH = path.join(REPO_ROOT, 'deploy', 'kubernetes', 'csi-node-daemonset.yaml');

/** The container named `name` of the example node plugin DaemonSet. */
export function daemonSetContainer(name: string): ManifestContainer {
  const daemonSet = parseYaml(fs.readFileSync(NODE_DAEMONSET_PATH, 'utf8')) as { spec: { template: { spec: { containers: ManifestContainer[] } } } };
  const container = daemonSet.spec.template.spec.containers.find((c) => c.name === name);
  if (!container) throw new Error(`${NODE_DAEMONSET_PATH} has no container named ${name}`);
  return container;
}

/** "128Mi" -> 134217728; only the binary suffixes the manifests use. */
function quantityBytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`memory quantity ${quantity}: expected <digits>Ki, Mi or Gi`);
  return Number(match[1]) * 1024 ** { Ki: 1, Mi: 2, Gi: 3 }[match[2] as 'Ki' | 'Mi' | 'Gi'];
}

/**
 * The podman run flags that give a container what a kubelet gives it for `container`'s
 * securityContext and resources (cgroup limits, user, capabilities, no_new_privs, read-only
 * root without the tmpfs mounts podman would add). Throws on a setting it cannot map, so a
 * manifest change is either carried into the runtime test or fails it.
 */
export function podmanFlagsOf(container: ManifestContainer): string[] {
  const flags: string[] = [];
  const { runAsNonRoot, runAsUser, runAsGroup, allowPrivilegeEscalation, readOnlyRootFilesystem, capabilities, seccompProfile, ...rest } = container.securityContext ?? {};
  if (Object.keys(rest).length > 0) throw new Error(`securityContext: no podman flag for ${Object.keys(rest).join(', ')}`);
  if (runAsNonRoot === true && (runAsUser === undefined || runAsUser === 0)) throw new Error('runAsNonRoot with no non-zero runAsUser');
  if (runAsUser !== undefined) flags.push(`--user=${String(runAsUser)}${runAsGroup === undefined ? '' : `:${String(runAsGroup)}`}`);
  if (allowPrivilegeEscalation === false) flags.push('--security-opt=no-new-privileges');
  // A kubelet mounts nothing writable over a read-only root; podman would add tmpfs on /tmp, /run, /var/tmp.
  if (readOnlyRootFilesystem === true) flags.push('--read-only', '--read-only-tmpfs=false');
  const { drop = [], add = [], ...otherCapabilities } = (capabilities ?? {}) as { drop?: string[]; add?: string[] };
  if (Object.keys(otherCapabilities).length > 0) throw new Error(`capabilities: unknown keys ${Object.keys(otherCapabilities).join(', ')}`);
  for (const capability of drop) flags.push(`--cap-drop=${capability}`);
  for (const capability of add) flags.push(`--cap-add=${capability}`);
  // RuntimeDefault is podman's default seccomp profile: no flag.
  const seccompType = (seccompProfile as { type?: string } | undefined)?.type;
  if (seccompType !== undefined && seccompType !== 'RuntimeDefault') throw new Error(`seccompProfile ${seccompType}: not mapped`);

  const { requests = {}, limits = {} } = container.resources ?? {};
  for (const key of Object.keys(limits)) if (key !== 'memory') throw new Error(`resources.limits.${key}: not mapped`);
  if (limits.memory) {
    // No swap on Kubernetes nodes (NoSwap): memory and memory+swap limits are the same.
    const bytes = quantityBytes(limits.memory);
    flags.push(`--memory=${bytes}b`, `--memory-swap=${bytes}b`);
  }
  if (requests.cpu) {
    // The kubelet's cgroup v1 cpu.shares for a request: milliCPU * 1024 / 1000, at least 2.
    const match = /^(\d+)m$/.exec(requests.cpu);
    if (!match) throw new Error(`resources.requests.cpu ${requests.cpu}: expected <digits>m`);
    flags.push(`--cpu-shares=${Math.max(2, Math.floor((Number(match[1]) * 1024) / 1000))}`);
  }
  // requests.memory only guides scheduling (and cgroup v2 memory.min under MemoryQoS): no runtime flag.
  return flags;
}
