// Where the built grpc-js test driver is: the benchmark, the demo and the test helpers all run it.

import * as path from 'node:path';

export const DRIVER_SCRIPT = path.resolve(__dirname, '..', 'test', 'driver', 'csi-test-driver.js');
