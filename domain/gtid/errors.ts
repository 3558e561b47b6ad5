// One error type for every malformed GTID text, so callers can tell "the server printed something we
// cannot read" from their own bugs. It is a plain Error: domain code stays free of Temporal imports;
// activities and workflows wrap it in their own classified failures.

export class GtidParseError extends Error {
  override readonly name = 'GtidParseError';

  constructor(
    /** The text that failed to parse, as given. */
    readonly input: string,
    /** Offset in `input` where the problem was found. */
    readonly offset: number,
    /** What is wrong, without the input (e.g. `interval 9-3 has start > end`). */
    readonly reason: string,
    what: string,
  ) {
    super(`invalid ${what} ${quote(input)}: ${reason}${where(input, offset)}`);
  }
}

const MAX_SHOWN = 160;

// JSON quoting escapes newlines, so a multi-line gtid_executed stays on one log line.
function quote(text: string): string {
  return JSON.stringify(text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text);
}

// Names the comma-separated entry holding the offset: with hundreds of UUIDs, the offset alone is useless.
function where(input: string, offset: number): string {
  const from = input.lastIndexOf(',', offset - 1) + 1;
  const comma = input.indexOf(',', offset);
  const entry = input
    .slice(from, comma < 0 ? input.length : comma)
    .replace(/\s+/g, ' ')
    .trim();
  if (entry === '') return ` (offset ${offset})`;
  const shown = entry.length > 80 ? `${entry.slice(0, 80)}…` : entry;
  return `, at "${shown}" (offset ${offset})`;
}
