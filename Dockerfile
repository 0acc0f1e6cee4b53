# csi-livenessprobe-ts container image: /livenessprobe, one executable (Node.js with the sidecar's
# bundle and V8 options inside: a Node.js single executable application), on distroless cc.
#
#   npm run image        # buildah, no registry needed: linux/amd64 + linux/arm64 in dist/image/csi-livenessprobe-ts.tar
#   npm run build && docker buildx build --platform linux/amd64,linux/arm64 \
#     -t <registry>/csi-livenessprobe-ts:v0.1.0 --push -f Dockerfile dist/bundle
#
# No RUN: every platform's image is built by copying files, without emulation.
#
# As upstream's images are built, the artifact is made outside (npm run build: the bundle, one
# /livenessprobe per architecture, their license texts and an SBOM per architecture) and the build
# context is that folder alone; the runtime base is the one image the build needs.
#
# The image keeps upstream's contract: /livenessprobe is the ENTRYPOINT, so a pod spec with `args:`
# only and one with `command: ["/livenessprobe", ...]` both run it, with the same V8 options; and it
# runs as root, as upstream's image does (FROM distroless/static, no USER), so it reaches a driver
# socket that root created with mode 0755 without any change to the pod spec. The example manifests
# (deploy/kubernetes) run it as UID 65532 with no capabilities instead, and say what the driver's
# socket then needs. Runtime: no shell, no package manager, no node_modules; nothing is written to
# the file system, so readOnlyRootFilesystem works.

# Debian 12's glibc, libgcc and libstdc++ (what Node.js links to) on distroless, no Node.js: the one in
# /livenessprobe is .node-version's. The "nonroot" tag has the user 65532 and its home that the
# manifests run as; the image's default user is set to root below. The tag follows Debian 12 point
# releases; pin it by digest in your own builds (the stand-in base `npm run image` assembles where no
# registry is reachable has exactly the Debian packages it names).
FROM gcr.io/distroless/cc-debian12:nonroot
# The platform's architecture (amd64, arm64): buildah build --platform and docker buildx set it.
ARG TARGETARCH
COPY livenessprobe/${TARGETARCH} /livenessprobe
COPY THIRD-PARTY-LICENSES.txt /licenses/THIRD-PARTY-LICENSES.txt
# Node.js's own license: its binary is the better part of /livenessprobe.
COPY NODE-LICENSE /licenses/NODE-LICENSE
# The image's software bill of materials, CycloneDX JSON (scripts/image/sbom.ts).
COPY sbom/${TARGETARCH}.cdx.json /sbom/csi-livenessprobe-ts.cdx.json
# Root, as upstream's image: see above.
USER 0:0
# The V8 options of bin/csi-livenessprobe.js are inside /livenessprobe (scripts/image/sea.ts; the tests check they match).
ENTRYPOINT ["/livenessprobe"]
