// What --version prints. The name and version come from package.json; the git
// commit is written into the single-file bundle by scripts/bundle.ts (a plain
// tsc build does not know it and says nothing about it).

import packageJson from '../package.json';

declare const CSI_LIVENESSPROBE_GIT_COMMIT: string | undefined;

/** "csi-livenessprobe-ts 0.1.0 (git commit 5bf22dc), node v20.20.2" */
export function versionLine(): string {
  const commit = typeof CSI_LIVENESSPROBE_GIT_COMMIT === 'string' && CSI_LIVENESSPROBE_GIT_COMMIT !== '' ? ` (git commit ${CSI_LIVENESSPROBE_GIT_COMMIT})` : '';
  return `${packageJson.name} ${packageJson.version}${commit}, node ${process.version}`;
}
