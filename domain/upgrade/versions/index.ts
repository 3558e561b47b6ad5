// The recorded knowledge per flavor, and the words a fact collector must look for in column names.
import type { Flavor } from '../../inventory';
import { MARIADB } from './mariadb';
import { MYSQL } from './mysql';
import type { FlavorKnowledge } from './types';

export type {
  AuthPluginChange,
  FlavorKnowledge,
  PrivilegeChange,
  ReplicationRule,
  ReservedWord,
  SqlModeChange,
  VariableChange,
} from './types';
export { REPLICATION_RULES, REPLICATION_VARIABLES } from './replication';

const KNOWLEDGE: Record<Flavor, FlavorKnowledge> = { mariadb: MARIADB, mysql: MYSQL };

export function knowledgeFor(flavor: Flavor): FlavorKnowledge {
  const k = KNOWLEDGE[flavor];
  if (!k)
    throw new Error(
      `unknown flavor "${String(flavor)}": expected one of ${Object.keys(KNOWLEDGE).join(', ')}`,
    );
  return k;
}

/** Every word some recorded release reserves, upper case: the union over both flavors. */
export function watchedWords(): string[] {
  return [...new Set(Object.values(KNOWLEDGE).flatMap((k) => k.reservedWords.map((w) => w.word)))].sort();
}
