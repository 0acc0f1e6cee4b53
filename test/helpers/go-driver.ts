// The grpc-go test driver (test/driver/go), built with Debian's Go and grpc-go.

import { buildGoProgram } from './go-program';

export function goDriverBinary(): string {
  return buildGoProgram('driver/go', 'csi-test-driver-go');
}
