# csi-livenessprobe-ts container image: the single-file bundle on distroless Node.js.
#
#   npm run image        # buildah, no registry needed: linux/amd64 + linux/arm64 in dist/image/csi-livenessprobe-ts.tar
#   npm run build && docker buildx build --platform linux/amd64,linux/arm64 \
#     -t <registry>/csi-livenessprobe-ts:v0.1.0 --push -f Dockerfile dist/bundle
#
# No RUN: every platform's image is built by copying files, without emulation.
#
# As upstream's images are built, the artifact is made outside (npm run build: the bundle, its
# license texts and an SBOM per architecture) and the build context is that folder alone; the
# runtime base is the one image the build needs.
#
# Runtime: no shell, no package manager, no node_modules; UID 65532; nothing
# is written to the file system, so readOnlyRootFilesystem works. Manifests
# pass only `args`, as they do for the upstream image.

# Node.js 24 LTS on distroless Debian 12, its "nonroot" user. The tag follows Node.js 24 patch
# releases; pin it by digest in your own builds to ship exactly .node-version (the stand-in
# base `npm run image` assembles where no registry is reachable has exactly that version).
FROM gcr.io/distroless/nodejs24-debian12:nonroot
# The platform's architecture (amd64, arm64): buildah build --platform and docker buildx set it.
ARG TARGETARCH
COPY csi-livenessprobe.js /csi-livenessprobe.js
COPY THIRD-PARTY-LICENSES.txt /licenses/THIRD-PARTY-LICENSES.txt
# The image's software bill of materials, CycloneDX JSON (scripts/image/sbom.ts).
COPY sbom/${TARGETARCH}.cdx.json /sbom/csi-livenessprobe-ts.cdx.json
USER 65532:65532
# The V8 options are those of bin/csi-livenessprobe.js (measured by npm run bench; the tests check they match).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=1", "--optimize-for-size", "--no-maglev", "--disable-sigusr1", "/csi-livenessprobe.js"]
