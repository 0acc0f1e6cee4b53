// The platforms the image is built for, and what each one is called by the parts that make it:
// OCI's platform (GOARCH names), the npm registry's Node.js package (Node's process.arch), Debian's
// architecture, and the ELF machine number of its binaries (to check a binary is the one it claims).

/** One platform of the image index. */
export interface ImagePlatform {
  /** OCI image-spec `platform.os`. */
  readonly os: 'linux';
  /** OCI image-spec `platform.architecture` (Go's GOARCH): "amd64", "arm64". */
  readonly architecture: 'amd64' | 'arm64';
  /** Node's process.arch, the suffix of the npm package node-linux-<arch>. */
  readonly nodeArch: 'x64' | 'arm64';
  /** Debian's architecture name (dpkg --print-architecture). */
  readonly debianArch: 'amd64' | 'arm64';
  /** ELF e_machine of the platform's binaries (EM_X86_64 62, EM_AARCH64 183). */
  readonly elfMachine: number;
}

/** Every platform `npm run image` builds, in the order of the image index. */
export const IMAGE_PLATFORMS: readonly ImagePlatform[] = [
  { os: 'linux', architecture: 'amd64', nodeArch: 'x64', debianArch: 'amd64', elfMachine: 62 },
  { os: 'linux', architecture: 'arm64', nodeArch: 'arm64', debianArch: 'arm64', elfMachine: 183 },
];

/** "linux/arm64", as buildah's --platform and podman's take it. */
export function platformName(platform: ImagePlatform): string {
  return `${platform.os}/${platform.architecture}`;
}

/** The platform this machine runs natively, or undefined when the image has none for it. */
export function hostPlatform(): ImagePlatform | undefined {
  return IMAGE_PLATFORMS.find((platform) => platform.nodeArch === process.arch);
}

/** The ELF e_machine field (bytes 18-19, little-endian on both platforms) of an ELF file's first bytes; throws when it is not ELF. */
export function elfMachineOf(header: Buffer, file: string): number {
  if (header.length < 20 || header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF binary`);
  return header.readUInt16LE(18);
}
