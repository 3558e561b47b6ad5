#!/usr/bin/env bash
# Records the replay suite's histories for the current release (package.json's version) from live
# runs on the lab: the integration tests that take every workflow type through its main branches
# run with SUCCESSOVER_RECORD_HISTORIES set, and each test file's runs are written to
# test/replay/histories/<version>/ as it ends (test/replay/record.ts). Run it at a release, after
# the last change to a workflow, as root (the netns lab); it takes about 6 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
out="test/replay/histories/$version"
if [ -d "$out" ] && [ "${1:-}" != "--replace" ]; then
  echo "$out exists: histories of a release are recorded once. Give --replace to record them again (before the release is tagged only)." >&2
  exit 1
fi
rm -rf "$out"
files=(
  test/integration/planned.test.ts
  test/integration/planned-refusals.test.ts
  test/integration/emergency.test.ts
  test/integration/emergency-races.test.ts
  test/integration/emergency-partition.test.ts
  test/integration/master-master.test.ts
  test/integration/provision.test.ts
  test/integration/blue-green.test.ts
  test/integration/describeCluster.test.ts
  test/integration/fleet-postgres.test.ts
)
SUCCESSOVER_RECORD_HISTORIES="$PWD/$out" npx jest "${files[@]}" --selectProjects integration --runInBand --forceExit
echo "recorded, by workflow type and branch (the replay suite checks every required one is there):"
ls "$out" | sed "s/\.[0-9]*\.json$//" | sort | uniq -c
