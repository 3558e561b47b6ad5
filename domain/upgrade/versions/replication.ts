// Settings blue and green must agree on: green replicates from blue during the soak, and blue from
// green for the rollback window after the cutover. A difference here breaks one of those two legs
// or changes what the application sees the moment traffic moves.
import type { ReplicationRule } from './types';

export const REPLICATION_RULES: ReplicationRule[] = [
  {
    names: ['server_id'],
    rule: 'distinct',
    severity: 'blocking',
    why: 'a replica ignores events carrying its own server_id, so blue and green would silently skip each other; give green its own server_id',
  },
  {
    names: ['log_bin'],
    rule: 'on',
    severity: 'blocking',
    why: 'after the cutover blue replicates from green, which needs green to write a binary log; start green with log_bin',
  },
  {
    names: ['log_replica_updates', 'log_slave_updates'],
    rule: 'on',
    severity: 'warning',
    why: 'without it green does not log what it applies from blue, so replicas moved under green before the cutover miss those transactions',
  },
  {
    names: ['gtid_mode'],
    rule: 'same',
    severity: 'blocking',
    why: 'successover repoints with GTID auto-positioning, which needs gtid_mode=ON on both',
  },
  {
    names: ['enforce_gtid_consistency'],
    rule: 'same',
    severity: 'warning',
    why: 'statements one side accepts the other refuses; set it the same on green',
  },
  {
    names: ['gtid_strict_mode'],
    rule: 'same',
    severity: 'warning',
    why: 'with different strictness an out-of-order GTID stops one side only; set it the same on green',
  },
  {
    names: ['binlog_format'],
    rule: 'same',
    severity: 'warning',
    why: 'a replica with log_replica_updates and binlog_format=STATEMENT stops on row events; set it the same on green',
  },
  {
    names: ['binlog_row_image'],
    rule: 'same',
    severity: 'warning',
    why: 'row events carry different columns after the cutover; set it the same on green',
  },
  {
    names: ['lower_case_table_names'],
    rule: 'same',
    severity: 'blocking',
    why: 'table names that differ only in case map to different tables on each side, so replicated statements hit the wrong table or none; green must be initialised with the same value',
  },
  {
    names: ['character_set_server'],
    rule: 'same',
    severity: 'warning',
    why: 'tables created without an explicit character set differ after the cutover; set it the same on green',
  },
  {
    names: ['collation_server'],
    rule: 'same',
    severity: 'warning',
    why: 'tables created without an explicit collation differ after the cutover; set it the same on green',
  },
  {
    names: ['explicit_defaults_for_timestamp'],
    rule: 'same',
    severity: 'warning',
    why: 'TIMESTAMP columns created by replicated DDL get different defaults on each side; set it the same on green',
  },
];

/** Every variable the rules read: collected whatever its origin. */
export const REPLICATION_VARIABLES: string[] = [...new Set(REPLICATION_RULES.flatMap((r) => r.names))];
