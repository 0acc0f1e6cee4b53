// Every differential target, for npm run fuzz. Each also has a test file
// beside it that runs it with the small budget of npm test.

import { goDurationTarget } from './go-duration';
import type { DifferentialTarget } from './harness';
import { http1VsGoTarget, http1VsLlhttpTarget } from './http1';

export const TARGETS: readonly DifferentialTarget<any>[] = [goDurationTarget, http1VsGoTarget, http1VsLlhttpTarget];
