#!/usr/bin/env node
// Entry point installed as `csi-livenessprobe`; the TypeScript build lives in dist/.
require('../dist/src/main.js');
