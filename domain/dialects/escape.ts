// Pure SQL escaping so dialects can build complete statements for dry-run plans without mysql2
// (domain code must not import it).
//
// String literals: quotes are doubled (correct with or without NO_BACKSLASH_ESCAPES), and
// backslash / NUL / newline / CR / Ctrl-Z are backslash-escaped (correct in the default sql_mode;
// under NO_BACKSLASH_ESCAPES the value would change, but nothing can break out of the literal).

const LITERAL_ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\n': '\\n',
  '\r': '\\r',
  '\x1a': '\\Z',
  '\\': '\\\\',
  "'": "''",
};

/** A quoted string literal: `it's` -> `'it''s'`. */
export function quoteString(value: string): string {
  if (typeof value !== 'string') throw new TypeError(`expected a string to quote, got ${typeof value}`);
  // eslint-disable-next-line no-control-regex -- NUL and Ctrl-Z are exactly what must be escaped
  return `'${value.replace(/[\0\n\r\x1a\\']/g, (c) => LITERAL_ESCAPES[c] as string)}'`;
}

/** A quoted identifier: backticks doubled. NUL cannot appear in an identifier at all. */
export function quoteIdentifier(name: string): string {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('expected a non-empty identifier');
  if (name.includes('\0')) throw new TypeError('an identifier cannot contain NUL');
  return `\`${name.replace(/`/g, '``')}\``;
}

/** An integer for a statement (port, connection id, server id): anything else is refused. */
export function sqlInteger(value: number, what: string, min = 0): string {
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${what}: expected an integer >= ${min}, got ${String(value)}`);
  return String(value);
}

/** A non-negative number of seconds (fractions allowed) for timeouts. */
export function sqlSeconds(value: number, what: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new RangeError(`${what}: expected a number of seconds >= 0, got ${String(value)}`);
  // At most millisecond precision: the servers ignore more, and it keeps plans readable.
  return String(Math.round(value * 1000) / 1000);
}
