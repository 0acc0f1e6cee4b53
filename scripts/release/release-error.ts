// The failures of `npm run release`, each with a stable code (as undici's lib/core/errors.js): the
// command line prints the message, tests and a forge's workflow branch on the code.

/** What failed; see the message for the value, the cause and what to do. */
export type ReleaseErrorCode =
  /** The archive is not there or cannot be read as an OCI image layout. */
  | 'ARCHIVE_UNREADABLE'
  /** The archive is not a release: its tag is not vX.Y.Z, its labels disagree, or its tree was modified. */
  | 'ARCHIVE_NOT_RELEASABLE'
  /** The archive was built from another commit than the one checked out. */
  | 'ARCHIVE_STALE'
  /** skopeo, which pushes and reads back, is not installed or does not run. */
  | 'TOOL_MISSING'
  /** No TCP connection to the registry's host and port. */
  | 'REGISTRY_UNREACHABLE'
  /** The registry already holds another image index under the release's tag; nothing was pushed. */
  | 'TAG_TAKEN'
  /** The registry answered but the push failed (authentication, permission, a path or operation it refuses). */
  | 'PUSH_REFUSED'
  /** The pushed image could not be read back from the registry. */
  | 'READ_BACK_FAILED'
  /** What the registry holds under the tag is not what was pushed. */
  | 'DIGEST_CHANGED';

export class ReleaseError extends Error {
  /**
   * @param code what failed, for callers to branch on (never the message).
   * @param message what failed, the value involved, the cause and what to do.
   * @param cause the underlying error, kept.
   */
  constructor(
    readonly code: ReleaseErrorCode,
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ReleaseError';
  }
}
