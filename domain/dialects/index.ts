// The dialect for a cluster's flavor: the only place that branches on flavor.
import type { Flavor } from '../inventory';
import type { Dialect } from './dialect';
import { mariadb } from './mariadb';
import { mysql } from './mysql';

export * from './dialect';
export { quoteString, quoteIdentifier } from './escape';
export { killableSessions, isKillable, type KillOptions } from './sessions';

const DIALECTS: Record<Flavor, Dialect> = { mariadb, mysql };

export function dialectFor(flavor: Flavor): Dialect {
  const d = DIALECTS[flavor];
  if (!d)
    throw new Error(
      `unknown flavor "${String(flavor)}": expected one of ${Object.keys(DIALECTS).join(', ')}`,
    );
  return d;
}
