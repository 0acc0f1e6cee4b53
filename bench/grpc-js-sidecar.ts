// The sidecar with the @grpc/grpc-js transport instead of the default one, so
// `npm run bench -- --vs` can measure the two side by side (README, "Design").
// Not shipped: users get one transport.

import { createGrpcJsTransport } from '../src/csi/transports/grpc-js-transport';
import { main } from '../src/main';

void main(createGrpcJsTransport);
