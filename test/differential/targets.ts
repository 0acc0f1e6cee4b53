// Every differential target, for npm run fuzz. Each also has a test file
// beside it that runs it with the small budget of npm test (http1-vs-llhttp
// only here: where llhttp and Go differ, Go decides, so it reports, not gates).

import { goDurationTarget } from './go-duration';
import { grpcVerdictTarget } from './grpc-verdict';
import type { DifferentialTarget } from './harness';
import { hpackTarget } from './hpack';
import { http1VsGoTarget, http1VsLlhttpTarget } from './http1';
import { protobufTarget } from './protobuf';
import { serveMuxTarget } from './serve-mux';

export const TARGETS: readonly DifferentialTarget<any>[] = [
  goDurationTarget,
  protobufTarget,
  serveMuxTarget,
  http1VsGoTarget,
  http1VsLlhttpTarget,
  grpcVerdictTarget,
  hpackTarget,
];
