#!/usr/bin/env bash
# Orchestrator hook -> successover: posts the failure Orchestrator detected to the alert receiver's
# /alerts/generic route, which starts (or joins) the emergency recovery of the cluster.
#
# Install it on the Orchestrator hosts and name it in orchestrator.conf.json:
#
#   "OnFailureDetectionProcesses": ["/usr/local/bin/successover-hook.sh detected"],
#   "PostUnsuccessfulFailoverProcesses": ["/usr/local/bin/successover-hook.sh failover-failed"]
#
# The argument only tells, in the run's reason, which hook posted.
# Let successover recover the clusters it knows: leave them out of Orchestrator's
# RecoverMasterClusterFilters, so Orchestrator detects and successover acts (two recoverers would
# fight over the promotion). Orchestrator passes the failure in ORC_* environment variables; only
# the failure types in SUCCESSOVER_FAILURE_TYPES (a dead primary) are posted, the others exit 0.
#
# Settings (environment, or the file in SUCCESSOVER_HOOK_CONFIG, default
# /etc/default/successover-hook, sourced when present):
#   SUCCESSOVER_URL           the receiver, default http://127.0.0.1:8080
#   SUCCESSOVER_TOKEN_FILE    the bearer token (webhook.tokenFile's token), default
#                             /etc/successover/webhook.token; sent through curl's stdin, not argv
#   SUCCESSOVER_CLUSTER       the inventory cluster; default ORC_FAILURE_CLUSTER_ALIAS, else
#                             ORC_FAILURE_CLUSTER (set Orchestrator's cluster aliases to the
#                             inventory's cluster names)
#   SUCCESSOVER_FAILURE_TYPES space-separated failure types that start a recovery
#   SUCCESSOVER_TIMEOUT       seconds per HTTP attempt, default 10
#
# ORC_FAILED_HOST:ORC_FAILED_PORT is sent as the "instance" label: it names the primary of the run
# only when the host is written in the inventory under that name; otherwise the run finds it.
# Exit status: 0 when the receiver accepted (202) or ignored (200) the failure, 1 otherwise.
set -euo pipefail

config=${SUCCESSOVER_HOOK_CONFIG:-/etc/default/successover-hook}
if [[ -r $config ]]; then
  # shellcheck source=/dev/null
  source "$config"
fi

url=${SUCCESSOVER_URL:-http://127.0.0.1:8080}
token_file=${SUCCESSOVER_TOKEN_FILE:-/etc/successover/webhook.token}
failure_types=${SUCCESSOVER_FAILURE_TYPES:-DeadMaster DeadMasterAndSomeReplicas DeadMasterAndReplicas DeadMasterWithoutReplicas DeadPrimary DeadPrimaryAndSomeReplicas DeadPrimaryAndReplicas DeadPrimaryWithoutReplicas}
timeout=${SUCCESSOVER_TIMEOUT:-10}

failure_type=${ORC_FAILURE_TYPE:-}
failed_host=${ORC_FAILED_HOST:-}
failed_port=${ORC_FAILED_PORT:-}
cluster=${SUCCESSOVER_CLUSTER:-${ORC_FAILURE_CLUSTER_ALIAS:-${ORC_FAILURE_CLUSTER:-}}}

log() { printf 'successover-hook: %s\n' "$*" >&2; }

if [[ -z $failure_type ]]; then
  log "ORC_FAILURE_TYPE is not set: run me from an Orchestrator hook"
  exit 1
fi
matched=0
for t in $failure_types; do
  if [[ $t == "$failure_type" ]]; then matched=1; fi
done
if ((matched == 0)); then
  log "$failure_type on ${cluster:-?}: not a dead primary, nothing posted"
  exit 0
fi
if [[ -z $cluster ]]; then
  log "no cluster: set SUCCESSOVER_CLUSTER or Orchestrator's cluster alias"
  exit 1
fi
if [[ ! -r $token_file ]]; then
  log "cannot read the token file $token_file (SUCCESSOVER_TOKEN_FILE)"
  exit 1
fi
token=$(<"$token_file")
token=${token%$'\n'}

# A JSON string: backslash, quote and the usual control characters escaped, others dropped.
json() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')
  printf '"%s"' "$s"
}

phase=${1:-}
reason="Orchestrator${phase:+ ($phase)}: $failure_type on $failed_host:$failed_port"
if [[ -n ${ORC_FAILURE_DESCRIPTION:-} ]]; then reason+=": $ORC_FAILURE_DESCRIPTION"; fi

body=$(
  printf '{"cluster":%s,"system":"orchestrator","reason":%s,' "$(json "$cluster")" "$(json "${reason:0:1900}")"
  printf '"alert":{"name":%s,"fingerprint":%s,"labels":{' "$(json "$failure_type")" \
    "$(json "$cluster/$failed_host:$failed_port")"
  printf '"instance":%s,"failed_host":%s,"failed_port":%s,' "$(json "$failed_host:$failed_port")" \
    "$(json "$failed_host")" "$(json "$failed_port")"
  printf '"orchestrator_cluster":%s,"orchestrator_host":%s,"replicas":%s}}}' \
    "$(json "${ORC_FAILURE_CLUSTER:-}")" "$(json "${ORC_ORCHESTRATOR_HOST:-}")" \
    "$(json "${ORC_REPLICA_HOSTS:-}")"
)

response=$(mktemp)
trap 'rm -f "$response"' EXIT
# The Authorization header goes through curl's --config on stdin: never on a command line that
# `ps` would show.
status=$(
  printf 'header = "Authorization: Bearer %s"\n' "$token" |
    curl --config - --silent --show-error --max-time "$timeout" --retry 2 --retry-connrefused \
      --header 'Content-Type: application/json' --data-binary "$body" \
      --output "$response" --write-out '%{http_code}' "$url/alerts/generic"
) || {
  log "POST $url/alerts/generic failed"
  exit 1
}
case $status in
  200 | 202)
    log "$failure_type on $cluster: $status $(cat "$response")"
    ;;
  *)
    log "$failure_type on $cluster: refused with $status: $(cat "$response")"
    exit 1
    ;;
esac
