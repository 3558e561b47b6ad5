// Whether the files read reach back far enough: a file's starting state (MariaDB Gtid list,
// MySQL Previous-GTIDs) is everything written before it, so a server lacking part of it lacks
// transactions these files do not hold.
import { fileStartHoldings, lacking, type Holdings } from './holdings';
import type { ParsedBinlog } from './types';

/**
 * What `holder` lacks of the first file's starting state ('' when nothing), or null when the tool
 * printed no starting state for it. Throws GtidParseError when that state cannot be read.
 */
export function lackedBeforeFiles(
  read: Pick<ParsedBinlog, 'flavor' | 'fileStarts'>,
  holder: Holdings,
): string | null {
  const first = read.fileStarts[0];
  if (first === null || first === undefined) return null;
  return lacking(holder, fileStartHoldings(read.flavor, first));
}
