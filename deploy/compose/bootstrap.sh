#!/bin/bash
# successover: the compose topology's one-shot `bootstrap` service (docker-compose.yml). Every
# MariaDB node starts read-only (mariadb/replication.cnf); on the very first `docker compose up`
# this makes db1 the primary: it waits until db2 and db3 replicate from db1, then sets db1
# writable. It records that it did so in its own volume and never changes roles again: from
# then on the runbooks own them (a planned successover may have made db2 the primary).
#
# After a restart every node is read-only again, on purpose: a node that restarts never takes
# writes on its own. Make the primary (the node the others replicate from) writable yourself:
#   docker compose exec db2 sh -c 'mariadb -uroot -p"$(cat /run/successover/secrets/mariadb-root.pw)" -e "SET GLOBAL read_only=0"'
set -euo pipefail

secrets=${SUCCESSOVER_SECRETS:-/run/successover/secrets}
done_file=${SUCCESSOVER_BOOTSTRAP_STATE:-/var/lib/successover-bootstrap}/done
primary=db1
replicas=(db2 db3)

if [ -s "$done_file" ]; then
	echo "bootstrap: done already ($(<"$done_file")): roles belong to the runbooks now, nothing to do"
	exit 0
fi

# The client's password goes in an option file (not argv, where ps shows it); quoted for it.
cnf=$(mktemp)
trap 'rm -f "$cnf"' EXIT
password=$(<"$secrets/successover-mysql.pw")
password=${password//\\/\\\\}
password=${password//\"/\\\"}
printf '[client]\nuser = successover\npassword = "%s"\nconnect-timeout = 2\n' "$password" >"$cnf"

sql() { mariadb --defaults-extra-file="$cnf" --host="$1" --port=3306 --batch --skip-column-names -e "$2"; }
# One field of SHOW SLAVE STATUS (vertical output: "  Field: value").
slave_field() { mariadb --defaults-extra-file="$cnf" --host="$1" --port=3306 -E -e 'SHOW SLAVE STATUS' | awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print; exit }'; }

for host in "$primary" "${replicas[@]}"; do
	for i in $(seq 60); do
		sql "$host" 'SELECT 1' >/dev/null 2>&1 && break
		[ "$i" = 60 ] && { echo "bootstrap: $host does not answer after 60 s" >&2; exit 1; }
		sleep 1
	done
done

# Never a second writer: if any node is writable, someone already chose the primary.
for host in "$primary" "${replicas[@]}"; do
	if [ "$(sql "$host" 'SELECT @@global.read_only')" = 0 ]; then
		echo "bootstrap: $host is writable already: leaving the roles as they are"
		echo "skipped $(date -u +%FT%TZ): $host was writable" >"$done_file"
		exit 0
	fi
done
if [ -n "$(slave_field "$primary" Master_Host)" ]; then
	echo "bootstrap: $primary replicates from $(slave_field "$primary" Master_Host): the roles moved; not making it writable" >&2
	exit 1
fi

for host in "${replicas[@]}"; do
	sql "$host" 'START SLAVE' >/dev/null
	for i in $(seq 60); do
		io=$(slave_field "$host" Slave_IO_Running)
		sqlt=$(slave_field "$host" Slave_SQL_Running)
		[ "$io" = Yes ] && [ "$sqlt" = Yes ] && break
		if [ "$i" = 60 ]; then
			echo "bootstrap: $host does not replicate from $primary (IO $io, SQL $sqlt):" \
				"$(slave_field "$host" Last_IO_Error) $(slave_field "$host" Last_SQL_Error)" >&2
			exit 1
		fi
		sleep 1
	done
	echo "bootstrap: $host replicates from $(slave_field "$host" Master_Host) (GTID $(slave_field "$host" Using_Gtid))"
done

sql "$primary" 'SET GLOBAL read_only = 0'
[ "$(sql "$primary" 'SELECT @@global.read_only')" = 0 ] || { echo "bootstrap: $primary is still read-only" >&2; exit 1; }
echo "made $primary the primary at $(date -u +%FT%TZ)" >"$done_file"
echo "bootstrap: $primary is the writable primary; db2 and db3 replicate from it"
