#!/bin/bash
# successover: the compose topology's one-shot `init` service (docker-compose.yml). It runs
# before the services that need secrets, on every `docker compose up`, and creates each secret
# the topology needs, once, in the `secrets` volume: random, never in the repository, the compose
# file, an environment variable or the inventory (which names the files only). A secret that
# exists is kept, so you may put your own there first.
#
# Why not compose `secrets:`? Those are files that must exist before `docker compose up`; making
# them here keeps the whole topology one command. Every service that mounts the volume can read
# every secret in it (files are 0444 because the images run as different users): in production
# give each service only its own secret (Docker/Kubernetes secrets, a vault).
set -euo pipefail

secrets=${SUCCESSOVER_SECRETS:-/run/successover/secrets}

mkdir -p "$secrets"
chmod 0755 "$secrets"

# Written to a temporary file and renamed, so a reader never sees half a secret.
put() {
	local name=$1 value=$2 tmp
	tmp=$(mktemp "$secrets/.$name.XXXXXX")
	printf '%s\n' "$value" >"$tmp"
	chmod 0444 "$tmp"
	mv -f "$tmp" "$secrets/$name"
}

# 48 hex digits: safe in SQL, in option files and in HTTP headers without quoting.
random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

for name in mariadb-root.pw successover-mysql.pw replication.pw exporter.pw webhook-token; do
	if [ -s "$secrets/$name" ]; then
		echo "init: $name exists, kept"
	else
		put "$name" "$(random_secret)"
		echo "init: $name created"
	fi
done

# mysqld_exporter reads its account from an option file; derived from exporter.pw each time so
# the two never disagree. (If you bring your own exporter.pw, avoid '#', ';' and quotes in it.)
put exporter.cnf "$(printf '[client]\nuser = exporter\npassword = %s' "$(<"$secrets/exporter.pw")")"
echo "init: exporter.cnf written"
