#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size --no-maglev --disable-sigusr1
// Entry point installed as `csi-livenessprobe`; the TypeScript build lives in dist/.
// The V8 options above keep the young generation small and favour size over
// speed; --no-maglev turns off V8's mid-tier compiler (TurboFan stays: --jitless
// saved 10-14 MiB at the peaks but lost kubelet probes under the abuse table's
// floods): measured with `npm run bench` and `npm run soak` (docs/performance.md). --disable-sigusr1: SIGUSR1 must never open the inspector
// (src/ignored-signals.ts). The benchmark and the container image run node
// with the same options, read from this line.
require('../dist/src/main.js').main();
