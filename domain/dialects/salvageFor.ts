// The salvage commands of a flavor. Its own module until Dialect carries them (`dialect.salvage`,
// like `dialect.backup`): the dialect files are being changed elsewhere meanwhile.
import type { Flavor } from '../inventory';
import type { SalvageDialect } from './salvage';
import { mariadbSalvage } from './salvageMariadb';
import { mysqlSalvage } from './salvageMysql';

export type { SalvageDialect, SalvageReadOutcome } from './salvage';
export { chooseBinlogIndex, basenameOfIndex, parseBinlogIndex } from './salvage';

export function salvageDialectFor(flavor: Flavor): SalvageDialect {
  return flavor === 'mysql' ? mysqlSalvage : mariadbSalvage;
}
