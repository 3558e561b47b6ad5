// Errant transactions when the primary is dead: there is no primary's GTID state to subtract, so
// each replica is compared with its peers (and with the dead primary's last known state when the
// run has one). A transaction is legitimate when it came from the dead primary (a replica that got
// it first is simply ahead) or when another witness has it too (an earlier primary's writes).
// What is left was written on that replica alone: promoting it would ship those writes to every
// replica, and break replication outright if they are gone from its binary logs (seed 002).
import {
  formatGtid,
  formatMysqlGtidSet,
  mariadbErrant,
  mysqlGtidCount,
  mysqlGtidSubtract,
  mysqlGtidUnion,
  parseMariadbGtidState,
  parseMysqlGtidSet,
  EMPTY_MYSQL_GTID_SET,
  type MariadbGtid,
} from '../gtid';
import type { Flavor } from '../inventory';
import { readGtidOf, readGtidOfAny } from '../ranking';
import type { EmergencyNode } from './types';

/**
 * Who the dead primary was, as a GTID origin. MariaDB: its server_id (Master_Server_Id of its
 * replicas). MySQL: its server_uuid (Source_UUID when the dialect reads it, else the one server
 * present in every replica's Retrieved_Gtid_Set: what the relay logs hold came from the source).
 */
export type DeadPrimaryIdentity =
  { known: true; serverId?: number; uuid?: string; how: string } | { known: false; reason: string };

export function deadPrimaryIdentity(flavor: Flavor, replicas: readonly EmergencyNode[]): DeadPrimaryIdentity {
  const relays = replicas
    .filter((n) => n.reachable && n.relay)
    .map((n) => ({ name: n.name, relay: n.relay! }));
  if (flavor === 'mariadb') {
    const ids = distinct(relays.map((r) => r.relay.sourceServerId).filter((id): id is number => id !== null));
    if (ids.length === 1)
      return { known: true, serverId: ids[0], how: `Master_Server_Id of ${names(relays)}` };
    return {
      known: false,
      reason:
        ids.length === 0
          ? "no replica reports the dead primary's server_id (Master_Server_Id)"
          : `the replicas report different source server_ids (${ids.join(', ')})`,
    };
  }
  const stated = distinct(
    relays.map((r) => r.relay.sourceUuid?.toLowerCase()).filter((u): u is string => !!u),
  );
  if (stated.length === 1) return { known: true, uuid: stated[0], how: 'Source_UUID' };
  if (stated.length > 1)
    return { known: false, reason: `the replicas report different source UUIDs (${stated.join(', ')})` };
  const received = relays
    .filter((r) => r.relay.received.trim() !== '')
    .map(
      (r) =>
        new Set(
          readGtidOf(r.name, RECEIVED, () => parseMysqlGtidSet(r.relay.received)).entries.map((e) => e.uuid),
        ),
    );
  if (received.length === 0)
    return {
      known: false,
      reason: "every replica's Retrieved_Gtid_Set is empty and none reports Source_UUID",
    };
  const common = [...received[0]].filter((u) => received.every((s) => s.has(u))).sort();
  if (common.length === 1)
    return { known: true, uuid: common[0], how: "the one server in every replica's Retrieved_Gtid_Set" };
  return {
    known: false,
    reason:
      common.length === 0
        ? "the replicas' Retrieved_Gtid_Sets share no server UUID"
        : `several servers in every replica's Retrieved_Gtid_Set (${common.join(', ')})`,
  };
}

export interface ReplicaErrant {
  name: string;
  /** False when there was nothing to compare with (or the replica could not be read). */
  checked: boolean;
  errant: boolean;
  /** The peers (and 'last known primary state') it was compared with. */
  witnesses: string[];
  /** MySQL: the errant GTID set. MariaDB: the errant binlog-state entries. '' when none. */
  gtids: string;
  /** Number of errant transactions (MySQL); null on MariaDB, whose state keeps only the last seq. */
  count: number | null;
  summary: string;
}

export interface ErrantInput {
  flavor: Flavor;
  /** The replicas of the dead primary (the dead primary itself excluded). */
  replicas: readonly EmergencyNode[];
  deadPrimary: DeadPrimaryIdentity;
  /** The dead primary's gtidHistory as last recorded while it was alive, when the run has it. */
  lastKnownPrimaryHistory?: string;
}

const LAST_KNOWN = 'last known primary state';
const RECEIVED = 'received position (Retrieved_Gtid_Set)';
const HISTORY = 'GTID history (@@gtid_executed / @@gtid_binlog_state)';

/** Per replica, the transactions that neither came from the dead primary nor exist anywhere else. */
export function errantAcrossReplicas(input: ErrantInput): ReplicaErrant[] {
  const { flavor, replicas, deadPrimary, lastKnownPrimaryHistory } = input;
  const readable = replicas.filter((n) => n.reachable && n.gtidHistory !== undefined);
  const unknownOrigin = (name: string) =>
    deadPrimary.known
      ? ''
      : ` (the dead primary's identity is unknown, so what ${name} got from it first counts too: ${deadPrimary.reason})`;
  return replicas.map((n): ReplicaErrant => {
    if (!readable.includes(n))
      return {
        name: n.name,
        checked: false,
        errant: false,
        witnesses: [],
        gtids: '',
        count: null,
        summary: `${n.name} not checked: ${n.reachable ? 'GTID state unknown' : `unreachable (${n.error ?? 'no answer'})`}`,
      };
    const peers = readable.filter((p) => p !== n);
    const witnesses = [
      ...peers.map((p) => p.name),
      ...(lastKnownPrimaryHistory !== undefined ? [LAST_KNOWN] : []),
    ];
    const histories = [
      ...peers.map((p) => p.gtidHistory!),
      ...(lastKnownPrimaryHistory !== undefined ? [lastKnownPrimaryHistory] : []),
    ];
    if (witnesses.length === 0)
      return {
        name: n.name,
        checked: false,
        errant: false,
        witnesses,
        gtids: '',
        count: null,
        summary: `${n.name} not checked: no other replica and no last known state of the dead primary to compare with`,
      };
    // A history that does not parse names its host (the one compared, or a witness).
    const texts = [
      { host: n.name, text: n.gtidHistory },
      ...peers.map((p) => ({ host: p.name, text: p.gtidHistory })),
      ...(lastKnownPrimaryHistory !== undefined ? [{ host: LAST_KNOWN, text: lastKnownPrimaryHistory }] : []),
    ];
    const { gtids, count } = readGtidOfAny(texts, HISTORY, () =>
      flavor === 'mysql'
        ? mysqlErrant(n.gtidHistory!, histories, deadPrimary.known ? deadPrimary.uuid : undefined)
        : mariadbErrantAcross(
            n.gtidHistory!,
            histories,
            deadPrimary.known ? deadPrimary.serverId : undefined,
          ),
    );
    const errant = gtids !== '';
    return {
      name: n.name,
      checked: true,
      errant,
      witnesses,
      gtids,
      count,
      summary: errant
        ? `${n.name} has ${count === null ? 'errant transactions' : `${count} errant transaction${count === 1 ? '' : 's'}`} that no other replica has and the dead primary did not write: ${gtids}${unknownOrigin(n.name)}`
        : `${n.name} has no errant transactions (compared with ${witnesses.join(', ')})`,
    };
  });
}

function mysqlErrant(history: string, witnesses: readonly string[], deadUuid: string | undefined) {
  const seen = witnesses.map(parseMysqlGtidSet).reduce(mysqlGtidUnion, EMPTY_MYSQL_GTID_SET);
  const left = mysqlGtidSubtract(parseMysqlGtidSet(history), seen);
  // Every tag of the dead primary's UUID is its own writing: legitimate.
  const errant = { entries: left.entries.filter((e) => e.uuid !== deadUuid?.toLowerCase()) };
  return { gtids: formatMysqlGtidSet(errant), count: mysqlGtidCount(errant) };
}

function mariadbErrantAcross(
  history: string,
  witnesses: readonly string[],
  deadServerId: number | undefined,
) {
  // The witnesses' states merged: per domain and server, the highest seq_no anyone has.
  const best = new Map<string, MariadbGtid>();
  for (const g of witnesses.flatMap(parseMariadbGtidState)) {
    const key = `${g.domain}-${g.serverId}`;
    if ((best.get(key)?.seq ?? -1) < g.seq) best.set(key, g);
  }
  const entries = mariadbErrant(parseMariadbGtidState(history), [...best.values()]).filter(
    (e) => e.serverId !== deadServerId,
  );
  const gtids = entries
    .map(
      (e) =>
        `${formatGtid({ domain: e.domain, serverId: e.serverId, seq: e.replicaSeq })} (${
          e.primarySeq === null
            ? `no other has anything from server ${e.serverId} in domain ${e.domain}`
            : `others have up to ${e.domain}-${e.serverId}-${e.primarySeq}`
        })`,
    )
    .join(', ');
  return { gtids, count: null };
}

export type ErrantDecision =
  { ok: true; warnings: string[] } | { ok: false; refusal: string; warnings: string[] };

/**
 * policy.errantGtids on the chosen candidate: 'abort' refuses, 'ignore' warns. Errant transactions
 * elsewhere are always warnings (those replicas are repointed as they are, but must not be promoted).
 */
export function errantDecision(input: {
  policy: 'abort' | 'ignore';
  candidate: string;
  reports: readonly ReplicaErrant[];
}): ErrantDecision {
  const { policy, candidate, reports } = input;
  const warnings: string[] = [];
  let refusal: string | undefined;
  for (const r of reports) {
    if (!r.checked) {
      warnings.push(r.summary);
      continue;
    }
    if (!r.errant) continue;
    if (r.name !== candidate) {
      warnings.push(
        `${r.summary}; it will be repointed as it is and must not be promoted before they are removed`,
      );
    } else if (policy === 'abort') {
      refusal = `${r.summary}: promoting ${candidate} would ship them to every replica (and break replication if they are gone from its binary logs); remove them or choose another candidate, or set policy errantGtids: ignore`;
    } else {
      warnings.push(`${r.summary}; promoted anyway (policy errantGtids: ignore)`);
    }
  }
  return refusal ? { ok: false, refusal, warnings } : { ok: true, warnings };
}

const distinct = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
const names = (xs: readonly { name: string }[]) => xs.map((x) => x.name).join(', ');
