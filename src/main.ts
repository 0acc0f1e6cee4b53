// The process around the sidecar: argv -> options -> startSidecar, signals,
// and exit codes. Exit codes: 0 after -h/--help, --version or a clean
// shutdown, 1 for a flag conflict, a listen failure, or a driver that answers
// GetPluginInfo with an error or an empty name, 2 for a bad flag (usage on
// stderr). Only this file calls process.exit.

import { createSidecarFlagSet, listenAddressFlag, OptionsConflictError, parseSidecarOptions, SidecarOptions } from './cli/options';
import { FlagError } from './go/flags';
import { ignoreUserSignals } from './ignored-signals';
import { Logger } from './log/logger';
import { nodeOptionsNotice } from './node-options-notice';
import { restoreProcessName } from './process-name';
import { exitOnSignals } from './shutdown';
import { RunningSidecar, SidecarListenError, startSidecar } from './sidecar';
import { versionLine } from './version';

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

function parseOptionsOrExit(argv: readonly string[]): SidecarOptions {
  try {
    return parseSidecarOptions(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      // Go's flag package: the problem, then usage, on stderr; help exits 0.
      if (err.code === 'ERR_FLAG_USAGE') process.stderr.write(`${err.message}\n`);
      process.stderr.write(createSidecarFlagSet().usage());
      process.exit(err.code === 'ERR_FLAG_HELP' ? EXIT_OK : EXIT_USAGE);
    }
    if (err instanceof OptionsConflictError) {
      new Logger({ format: 'text', verbosity: 0 }).error(undefined, err.message);
      process.exit(EXIT_FAILURE);
    }
    throw err;
  }
}

async function startOrExit(options: SidecarOptions, logger: Logger): Promise<RunningSidecar> {
  try {
    return await startSidecar(options, logger);
  } catch (err) {
    if (!(err instanceof SidecarListenError)) throw err;
    const { address, advice } = err.cause;
    logger.error(`cannot listen on ${address} (${listenAddressFlag(options, err.role)}): ${advice}`, 'Failed to start http server');
    process.exit(EXIT_FAILURE);
  }
}

export async function main(): Promise<void> {
  const options = parseOptionsOrExit(process.argv.slice(2));
  if (options.showVersion) {
    process.stdout.write(`${versionLine()}\n`);
    process.exit(EXIT_OK);
  }
  const logger = new Logger({
    format: options.loggingFormat,
    verbosity: options.verbosity,
    infoStream: options.splitStream ? process.stdout : process.stderr,
  });
  ignoreUserSignals(logger);
  const unnamed = restoreProcessName();
  if (unnamed !== undefined) logger.infoAt(4, unnamed);
  const nodeOptions = nodeOptionsNotice(process.env);
  if (nodeOptions) logger.warning(nodeOptions.message, nodeOptions.fields);
  for (const notice of options.notices) logger.warning(notice);

  const sidecar = await startOrExit(options, logger);
  exitOnSignals({ logger, close: () => sidecar.close(), exit: (code) => process.exit(code) });
  try {
    await sidecar.driverName;
  } catch (err) {
    logger.error(err, 'Failed to get CSI driver name');
    process.exit(EXIT_FAILURE);
  }
}

if (require.main === module) void main();
