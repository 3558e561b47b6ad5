#!/bin/bash
# successover: creates the accounts of the compose topology and, on db2 and db3, points replication
# at db1. The official mariadb image runs it once, when it initializes an empty data directory
# (docker-compose.yml mounts this folder as /docker-entrypoint-initdb.d); it is skipped on every
# later start. The image may run it or source it, so it neither exits nor sets -u.
#
# Environment (from docker-compose.yml):
#   SUCCESSOVER_SOURCE   the node to replicate from (db2, db3: db1); empty on db1
#   SUCCESSOVER_SECRETS  the folder the init service filled (deploy/compose/secrets-init.sh)
#   MARIADB_ROOT_PASSWORD  set by the image's entrypoint from MARIADB_ROOT_PASSWORD_FILE
#
# Every node stays read-only here: deploy/compose/bootstrap.sh makes db1 writable, once, when all
# three are up and replicating.
set -eo pipefail

successover_secrets=${SUCCESSOVER_SECRETS:-/run/successover/secrets}

successover_secret() {
	local file="$successover_secrets/$1"
	if [ ! -s "$file" ]; then
		echo "successover init: $file is missing or empty: the init service creates it" >&2
		return 1
	fi
	local value
	value=$(<"$file")
	printf '%s' "$value"
}

# A single-quoted SQL string literal (backslash escapes are on: the session clears
# NO_BACKSLASH_ESCAPES below).
successover_sql_string() {
	local s=${1//\\/\\\\}
	s=${s//\'/\\\'}
	printf "'%s'" "$s"
}

successover_sql() {
	MYSQL_PWD=$MARIADB_ROOT_PASSWORD mariadb --protocol=socket -uroot -hlocalhost \
		--socket="${SOCKET:-/run/mysqld/mysqld.sock}" --batch
}

successover_init() {
	local admin repl exporter
	admin=$(successover_sql_string "$(successover_secret successover-mysql.pw)")
	repl=$(successover_sql_string "$(successover_secret replication.pw)")
	exporter=$(successover_sql_string "$(successover_secret exporter.pw)")
	# Accounts are local to each node (sql_log_bin=0): every node's GTID state stays empty until
	# replication starts, so db2 and db3 can follow db1 from its first transaction and no node
	# has transactions the others lack (gtid_strict_mode would stop replication on them).
	successover_sql <<-SQL
		SET SESSION sql_log_bin = 0;
		SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '');
		-- successover's own account (inventory credentials.mysql): it sets read_only, kills
		-- sessions, reads and repoints replication. As in the lab.
		CREATE USER 'successover'@'%' IDENTIFIED BY $admin;
		GRANT ALL PRIVILEGES ON *.* TO 'successover'@'%' WITH GRANT OPTION;
		-- Replication (inventory credentials.replication), on every node: any may become the primary.
		CREATE USER 'repl'@'%' IDENTIFIED BY $repl;
		GRANT REPLICATION SLAVE, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'repl'@'%';
		-- mysqld_exporter: status, variables and SHOW SLAVE STATUS; no data.
		CREATE USER 'exporter'@'%' IDENTIFIED BY $exporter WITH MAX_USER_CONNECTIONS 3;
		GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR ON *.* TO 'exporter'@'%';
	SQL
	if [ -n "${SUCCESSOVER_SOURCE:-}" ]; then
		# The replica threads start with the real server (this runs in the image's temporary one)
		# and retry every second until the source answers. slave_pos: GTID auto-positioning.
		successover_sql <<-SQL
			SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '');
			CHANGE MASTER TO MASTER_HOST = $(successover_sql_string "$SUCCESSOVER_SOURCE"), MASTER_PORT = 3306,
			  MASTER_USER = 'repl', MASTER_PASSWORD = $repl,
			  MASTER_USE_GTID = slave_pos, MASTER_HEARTBEAT_PERIOD = 1, MASTER_CONNECT_RETRY = 1;
		SQL
		echo "successover init: accounts created; replicates from $SUCCESSOVER_SOURCE (GTID slave_pos)"
	else
		echo "successover init: accounts created; no source: the bootstrap makes this node the primary"
	fi
}

successover_init
