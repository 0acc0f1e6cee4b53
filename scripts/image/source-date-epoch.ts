// The one time a build writes (image creation, file times, the SBOM's timestamp): SOURCE_DATE_EPOCH
// (reproducible-builds.org's convention), taken from the commit when the environment does not set it,
// so that the same commit gives the same bytes whenever and wherever it is built.

import { execFileSync } from 'node:child_process';
import { ROOT } from './container-tools';

/** The latest time the archive's ustar headers hold (11 octal digits: 2242-03-16T12:56:31Z); GNU tar refuses later ones. */
export const MAX_SOURCE_DATE_EPOCH = 8 ** 11 - 1;

/** SOURCE_DATE_EPOCH from the environment, else the commit time of HEAD; throws when neither is known. */
export function sourceDateEpoch(): number {
  const given = process.env.SOURCE_DATE_EPOCH;
  if (given !== undefined && given !== '') {
    if (!/^\d+$/.test(given)) throw new Error(`SOURCE_DATE_EPOCH=${given}: expected whole seconds since 1970`);
    const seconds = Number(given);
    if (seconds > MAX_SOURCE_DATE_EPOCH) {
      throw new Error(`SOURCE_DATE_EPOCH=${given}: at most ${MAX_SOURCE_DATE_EPOCH} (${new Date(MAX_SOURCE_DATE_EPOCH * 1000).toISOString().replace('.000', '')}), the latest time the archive's tar headers hold`);
    }
    return seconds;
  }
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  } catch (err) {
    throw new Error('no SOURCE_DATE_EPOCH and no git commit to take it from; set SOURCE_DATE_EPOCH to the source\'s time', { cause: err });
  }
}
