// The container image as the Dockerfile defines it, read with dockerfile-ast:
// its stages and the runtime command line, so tests can check the file and run
// that exact command against the bundle outside Docker (no Docker engine here).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser, From, Instruction } from 'dockerfile-ast';
import type { SidecarCommand } from './sidecar';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const DOCKERFILE_PATH = path.join(REPO_ROOT, 'Dockerfile');
/** Where the distroless Node.js images keep node. */
export const IMAGE_NODE_PATH = '/nodejs/bin/node';

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
 * The image's command line with its two paths moved to this machine: node is
 * the node running the tests, and the bundle is `bundlePath`. Every other
 * argument (the V8 options) is kept as the image has it.
 */
export function imageCommandOutsideDocker(bundlePath: string): SidecarCommand {
  const [node, ...rest] = readImageEntrypoint();
  if (node !== IMAGE_NODE_PATH) throw new Error(`ENTRYPOINT starts with ${node}, not ${IMAGE_NODE_PATH}`);
  const script = rest.at(-1)!;
  return { executable: process.execPath, leadingArgs: [...rest.slice(0, -1), path.join(path.dirname(bundlePath), path.basename(script))] };
}
