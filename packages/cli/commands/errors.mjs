// The CLI's errors and exit codes. No SDK import here: bitp2p.mjs loads this
// before any command, so that a missing or unbuilt SDK is reported as a
// message, not a module-resolution stack.

/** Exit code of a bad command line. */
export const EXIT_USAGE = 2
/** Exit code of a failure at run time (unreachable peer, invalid data, ...). */
export const EXIT_FAILURE = 1
/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const EXIT_INTERRUPTED = 130
/** An error the CLI reports as one line on stderr, exiting with `code`. */
export class CliError extends Error {
  constructor(message, code = EXIT_FAILURE) {
    super(message)
    this.name = 'CliError'
    this.code = code
  }
}

/** A bad command line: exit code 2. */
export class UsageError extends CliError {
  constructor(message) {
    super(message, EXIT_USAGE)
    this.name = 'UsageError'
  }
}
