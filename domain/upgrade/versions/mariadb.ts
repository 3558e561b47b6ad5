// What MariaDB releases changed that a blue/green upgrade must look at. Taken from the MariaDB
// upgrade pages ("Options That Have Been Removed or Renamed", "Deprecated Options", "Reserved
// Words") and release notes; each list names its page. Entries start with 10.6, the oldest series
// a blue here is expected to run. Only what those pages say is recorded.
import type {
  AuthPluginChange,
  FlavorKnowledge,
  PrivilegeChange,
  ReservedWord,
  VariableChange,
} from './types';

const UPGRADING = 'https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading';

const removed = (since: string, source: string, fix?: string) => (name: string) =>
  ({ name, since, kind: 'removed', source, ...(fix ? { fix } : {}) }) satisfies VariableChange;
const deprecated = (since: string, source: string, fix?: string) => (name: string) =>
  ({ name, since, kind: 'deprecated', source, ...(fix ? { fix } : {}) }) satisfies VariableChange;

// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-from-to-specific-versions/upgrading-from-mariadb-10-5-to-mariadb-10-6
const FROM_10_5_TO_10_6 = `${UPGRADING}/upgrading-from-to-specific-versions/upgrading-from-mariadb-10-5-to-mariadb-10-6`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-6-to-mariadb-10-7
const FROM_10_6_TO_10_7 = `${UPGRADING}/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-6-to-mariadb-10-7`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-7-to-mariadb-10-8
const FROM_10_7_TO_10_8 = `${UPGRADING}/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-7-to-mariadb-10-8`;
// https://mariadb.com/kb/en/mdb-1091-rn/ (innodb_disallow_writes removed, MDEV-25975)
const RELEASE_10_9_1 = 'https://mariadb.com/kb/en/mdb-1091-rn/';
// https://mariadb.com/kb/en/innodb-change-buffering/ (disabled by default from 10.6.7, deprecated
// and ignored from 10.9.0 by MDEV-27735, removed in 11.0.0 by MDEV-29694)
const CHANGE_BUFFERING = 'https://mariadb.com/kb/en/innodb-change-buffering/';
// https://mariadb.com/docs/release-notes/community-server/old-releases/10.10/what-is-mariadb-1010
const WHAT_IS_10_10 =
  'https://mariadb.com/docs/release-notes/community-server/old-releases/10.10/what-is-mariadb-1010';
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-11-to-mariadb-11-0
const FROM_10_11_TO_11_0 = `${UPGRADING}/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-10-11-to-mariadb-11-0`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-11-0-to-mariadb-11-1
const FROM_11_0_TO_11_1 = `${UPGRADING}/upgrading-to-unmaintained-mariadb-releases/upgrading-from-mariadb-11-0-to-mariadb-11-1`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-1-to-mariadb-11-2
const FROM_11_1_TO_11_2 = `${UPGRADING}/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-1-to-mariadb-11-2`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-2-to-mariadb-11-3
const FROM_11_2_TO_11_3 = `${UPGRADING}/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-2-to-mariadb-11-3`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-3-to-mariadb-11-4
const FROM_11_3_TO_11_4 = `${UPGRADING}/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-3-to-mariadb-11-4`;
// https://mariadb.com/docs/server/server-management/install-and-upgrade-mariadb/upgrading/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-4-to-mariadb-11-8
const FROM_11_4_TO_11_8 = `${UPGRADING}/upgrading-from-to-specific-versions/upgrading-from-mariadb-11-4-to-mariadb-11-8`;

const DEFRAGMENT = [
  'innodb_defragment',
  'innodb_defragment_fill_factor',
  'innodb_defragment_fill_factor_n_recs',
  'innodb_defragment_frequency',
  'innodb_defragment_n_pages',
  'innodb_defragment_stats_accuracy',
];

const variables: VariableChange[] = [
  // 10.6: "Options That Have Been Removed or Renamed" of the 10.5 → 10.6 page.
  ...[
    'innodb_adaptive_max_sleep_delay',
    'innodb_background_scrub_data_check_interval',
    'innodb_background_scrub_data_compressed',
    'innodb_background_scrub_data_interval',
    'innodb_background_scrub_data_uncompressed',
    'innodb_buffer_pool_instances',
    'innodb_commit_concurrency',
    'innodb_concurrency_tickets',
    'innodb_file_format',
    'innodb_large_prefix',
    'innodb_lock_schedule_algorithm',
    'innodb_log_checksums',
    'innodb_log_compressed_pages',
    'innodb_log_files_in_group',
    'innodb_log_optimize_ddl',
    'innodb_page_cleaners',
    'innodb_replication_delay',
    'innodb_scrub_log',
    'innodb_scrub_log_speed',
    'innodb_sync_array_size',
    'innodb_thread_concurrency',
    'innodb_thread_sleep_delay',
    'innodb_undo_logs',
  ].map(removed('10.6.0', FROM_10_5_TO_10_6)),
  // Deprecated in 10.6 (10.5 → 10.6 page), removed in 10.7 (10.6 → 10.7 page).
  ...['wsrep_replicate_myisam', 'wsrep_strict_ddl'].flatMap((name) => [
    deprecated('10.6.0', FROM_10_5_TO_10_6, 'use wsrep_mode instead')(name),
    removed('10.7.0', FROM_10_6_TO_10_7, 'use wsrep_mode instead')(name),
  ]),
  removed(
    '10.8.0',
    FROM_10_7_TO_10_8,
    'the physical block size of the storage is detected instead',
  )('innodb_log_write_ahead_size'),
  deprecated(
    '10.8.0',
    FROM_10_7_TO_10_8,
    'orphan files are deleted now, so it should never be needed',
  )('keep_files_on_create'),
  removed('10.9.1', RELEASE_10_9_1)('innodb_disallow_writes'),
  deprecated(
    '10.9.0',
    CHANGE_BUFFERING,
    'the setting is ignored from 10.9 and the change buffer is gone in 11.0',
  )('innodb_change_buffering'),
  removed('10.10.0', WHAT_IS_10_10, 'redundant: @@version tells the InnoDB version')('innodb_version'),
  deprecated('10.10.0', WHAT_IS_10_10)('innodb_prefix_index_cluster_optimization'),
  ...[
    'spider_udf_ct_bulk_insert_interval',
    'spider_udf_ct_bulk_insert_rows',
    'spider_udf_ds_bulk_insert_rows',
    'spider_udf_ds_table_loop_mode',
    'spider_udf_ds_use_real_table',
    'spider_use_handle',
    'spider_udf_table_mon_mutex_count',
    'spider_use_handler',
  ].map(removed('10.10.0', WHAT_IS_10_10)),
  // 11.0: the InnoDB change buffer is gone.
  ...['innodb_change_buffer_max_size', 'innodb_change_buffering'].map(
    removed('11.0.0', FROM_10_11_TO_11_0, 'the InnoDB change buffer was removed (MDEV-29694)'),
  ),
  ...DEFRAGMENT.map(deprecated('11.0.0', FROM_10_11_TO_11_0)),
  deprecated(
    '11.0.0',
    FROM_10_11_TO_11_0,
    'it has been on for many releases; turning it off is no longer useful',
  )('innodb_file_per_table'),
  deprecated(
    '11.0.0',
    FROM_10_11_TO_11_0,
    'mapped to four boolean parameters that can change at run time',
  )('innodb_flush_method'),
  deprecated('11.0.0', FROM_10_11_TO_11_0, 'use log_slow_filter without admin')('log_slow_admin_statements'),
  // 11.1
  ...DEFRAGMENT.map(
    removed('11.1.0', FROM_11_0_TO_11_1, 'defragmenting InnoDB tablespaces this way is no longer supported'),
  ),
  deprecated(
    '11.1.0',
    FROM_11_0_TO_11_1,
    'it is ignored; innodb_undo_log_truncate=ON is the lighter way',
  )('innodb_purge_rseg_truncate_frequency'),
  { ...deprecated('11.1.0', FROM_11_0_TO_11_1)('tx_isolation'), renamedTo: 'transaction_isolation' },
  { ...deprecated('11.1.0', FROM_11_0_TO_11_1)('tx_read_only'), renamedTo: 'transaction_read_only' },
  // 11.2
  removed('11.2.0', FROM_11_1_TO_11_2, 'superseded by alter_algorithm')('old_alter_table'),
  // 11.3
  ...['date_format', 'datetime_format', 'max_tmp_tables', 'time_format'].map(
    removed('11.3.0', FROM_11_2_TO_11_3, 'it was unused'),
  ),
  removed('11.3.0', FROM_11_2_TO_11_3, 'use wsrep_sync_wait=1 instead')('wsrep_causal_reads'),
  // 11.4
  removed('11.4.0', FROM_11_3_TO_11_4, 'it was unused code')('debug_no_thread_alarm'),
  // 11.8
  removed(
    '11.8.0',
    FROM_11_4_TO_11_8,
    'deprecated since 10.4 and OFF by default',
  )('wsrep_load_data_splitting'),
];

// https://mariadb.com/docs/server/reference/sql-structure/sql-language-structure/reserved-words
// ("OFFSET (> 10.6)", "ROW_NUMBER (> 10.7)", "VECTOR (> 11.6)"); the 10.5 → 10.6 and 10.6 → 10.7
// upgrade pages name OFFSET and ROW_NUMBER as new reserved words of those releases.
const RESERVED_WORDS_PAGE =
  'https://mariadb.com/docs/server/reference/sql-structure/sql-language-structure/reserved-words';
const reservedWords: ReservedWord[] = [
  { word: 'OFFSET', since: '10.6.0', source: FROM_10_5_TO_10_6 },
  { word: 'ROW_NUMBER', since: '10.7.0', source: FROM_10_6_TO_10_7 },
  { word: 'VECTOR', since: '11.7.0', source: RESERVED_WORDS_PAGE },
];

const authPlugins: AuthPluginChange[] = [
  {
    // https://mariadb.com/kb/en/authentication-plugin-ed25519 ("the plugin is not actually
    // installed by MariaDB by default")
    plugin: 'ed25519',
    since: '10.1.22',
    kind: 'loadable',
    fix: "green must load it too: INSTALL SONAME 'auth_ed25519' or plugin_load_add = auth_ed25519 in its option file",
    source: 'https://mariadb.com/kb/en/authentication-plugin-ed25519',
  },
];

const privileges: PrivilegeChange[] = [
  {
    // MDEV-29596 "Separate SUPER and READ ONLY ADMIN privileges",
    // https://github.com/MariaDB/server/commit/47dccace13 ; the read_only reference for 10.6 still
    // exempts SUPER, and Red Hat's 10.5 → 10.11 notes list the separation:
    // https://docs.redhat.com/zh_hans/documentation/red_hat_enterprise_linux/9/html/configuring_and_using_database_servers/upgrading-from-mariadb-10-5-to-mariadb-10-11_using-mariadb
    privilege: 'SUPER',
    since: '10.11.0',
    kind: 'narrowed',
    lost: 'READ_ONLY ADMIN',
    fix: 'SUPER no longer lets the account write while read_only=ON; GRANT READ_ONLY ADMIN to it only if it must (replication appliers do not need it)',
    source: 'https://github.com/MariaDB/server/commit/47dccace13',
  },
];

export const MARIADB: FlavorKnowledge = {
  flavor: 'mariadb',
  variables,
  sqlModes: [],
  reservedWords,
  authPlugins,
  privileges,
};
