// Words for a POSIX sh command line. Every value put in a command run over SSH goes through
// shellQuote, so a name or a path can never become shell syntax.

// Characters that never need quoting in POSIX sh; keeps dry-run plans readable.
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quotes one argument for POSIX sh (single-quote style). Every value put in a command goes through it. */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins argv into one sh command line, each word quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
