# csi-livenessprobe-ts container image: the single-file bundle on distroless Node.js.
#
#   docker build -t csi-livenessprobe-ts:v0.1.0 --build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD) .
#
# Runtime: no shell, no package manager, no node_modules; UID 65532; nothing
# is written to the file system, so readOnlyRootFilesystem works. Manifests
# pass only `args`, as they do for the upstream image.

# Build stage: compile and bundle (scripts/bundle.ts).
# The exact Node.js version CI tests (.node-version; tests check they agree).
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY proto ./proto
COPY scripts ./scripts
COPY test ./test
COPY bench ./bench
RUN npm ci --no-audit --no-fund
ARG GIT_COMMIT=""
RUN CSI_LIVENESSPROBE_GIT_COMMIT="${GIT_COMMIT}" node dist/scripts/bundle.js --out /out

# Runtime stage: Node.js 24 LTS on distroless Debian 12, its "nonroot" user. The tag follows
# Node.js 24 patch releases; pin it by digest in your own builds to ship exactly .node-version.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
COPY --from=build /out/csi-livenessprobe.js /csi-livenessprobe.js
COPY --from=build /out/THIRD-PARTY-LICENSES.txt /licenses/THIRD-PARTY-LICENSES.txt
USER 65532:65532
# The V8 options are those of bin/csi-livenessprobe.js (measured by npm run bench; the tests check they match).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-maglev", "--disable-sigusr1", "/csi-livenessprobe.js"]
