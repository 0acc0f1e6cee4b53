// Every differential target, for npm run fuzz. Each also has a test file
// beside it that runs it with the small budget of npm test.

import { goDurationTarget } from './go-duration';
import type { DifferentialTarget } from './harness';
import { protobufTarget } from './protobuf';
import { serveMuxTarget } from './serve-mux';

export const TARGETS: readonly DifferentialTarget<any>[] = [goDurationTarget, protobufTarget, serveMuxTarget];
