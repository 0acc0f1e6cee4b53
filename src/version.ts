// What --version prints. The name and version come from package.json; the git
// commit is written into the single-file bundle by scripts/bundle.ts (a plain
// tsc build does not know it and says nothing about it).

import packageJson from '../package.json';

declare const CSI_LIVENESSPROBE_GIT_COMMIT: string | undefined;

/** Node's process.arch in the OCI (Go GOARCH) names image platforms use. */
const GOARCH_OF: Readonly<Record<string, string>> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' };

/**
 * "csi-livenessprobe-ts 0.1.0 (git commit 5bf22dc), node v24.22.3 linux/arm64": the platform is the
 * one the running Node.js was built for, so a multi-architecture image tells which variant a node pulled.
 */
export function versionLine(): string {
  const commit = typeof CSI_LIVENESSPROBE_GIT_COMMIT === 'string' && CSI_LIVENESSPROBE_GIT_COMMIT !== '' ? ` (git commit ${CSI_LIVENESSPROBE_GIT_COMMIT})` : '';
  return `${packageJson.name} ${packageJson.version}${commit}, node ${process.version} ${process.platform}/${GOARCH_OF[process.arch] ?? process.arch}`;
}
