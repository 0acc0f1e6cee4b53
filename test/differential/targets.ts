// Every differential target, for npm run fuzz. Each also has a test file
// beside it that runs it with the small budget of npm test.

import { goDurationTarget } from './go-duration';
import { grpcVerdictTarget } from './grpc-verdict';
import { hpackTarget } from './hpack';
import type { DifferentialTarget } from './harness';

export const TARGETS: readonly DifferentialTarget<any>[] = [goDurationTarget, grpcVerdictTarget, hpackTarget];
