// NODE_OPTIONS set in the pod (an APM or tracing webhook injects it, or a
// platform-wide default) is applied by Node.js to the sidecar too: preloaded
// code, other memory limits, even an inspector. Said at start, so that an
// operator sees it in the sidecar's own log.

/** The warning to log when NODE_OPTIONS is set, or undefined. */
export function nodeOptionsNotice(env: NodeJS.ProcessEnv): { message: string; fields: Record<string, string> } | undefined {
  const value = env.NODE_OPTIONS?.trim();
  if (!value) return undefined;
  return { message: 'NODE_OPTIONS is set; Node.js applies it to the sidecar as well', fields: { NODE_OPTIONS: value } };
}
