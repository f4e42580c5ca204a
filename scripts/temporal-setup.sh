#!/bin/sh
# Prepares a Temporal namespace for ftpipe on a cluster: waits until the namespace exists, registers ftpipe's Keyword
# search attributes, then waits until visibility accepts a query on each (a new attribute is refused for a moment
# after it is registered). Registering an attribute that exists with the same type is a no-op, so a re-run succeeds;
# every other error fails the script (a different type, no free slot in SQL visibility, an unreachable server).
# Usage: temporal-setup.sh NAME...  (the names of src/temporal/search-attributes.ts)
# Reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (default "default") as the temporal CLI does; TEMPORAL_CLI names the
# binary (default: temporal on PATH); FTPIPE_SETUP_ATTEMPTS bounds each wait (default 120, one a second).
# Used by docker-compose.yml's temporal-setup service and by the cluster test (scripts/cluster-test.ts).
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 SEARCH_ATTRIBUTE_NAME..." >&2
  exit 2
fi
namespace="${TEMPORAL_NAMESPACE:-default}"
attempts="${FTPIPE_SETUP_ATTEMPTS:-120}"
temporal="${TEMPORAL_CLI:-temporal}"

names=""
for name do
  case "${name}" in
    '' | [!A-Za-z]* | *[!A-Za-z0-9_]*)
      echo "temporal-setup: '${name}' is not a search attribute name" >&2
      exit 2
      ;;
  esac
  names="${names} ${name}"
done

# wait_for WHAT COMMAND...: runs COMMAND once a second until it succeeds; after $attempts failures prints its last
# output and fails.
wait_for() {
  what="$1"
  shift
  n=1
  until output="$("$@" 2>&1)"; do
    if [ "${n}" -ge "${attempts}" ]; then
      echo "temporal-setup: ${what}: still failing after ${attempts} attempts: ${output}" >&2
      exit 1
    fi
    n=$((n + 1))
    sleep 1
  done
}

wait_for "namespace ${namespace}" "${temporal}" operator namespace describe --namespace "${namespace}"

# One attribute per call: given several --name flags and one --type, the CLI registers only the first name.
for name in ${names}; do
  "${temporal}" operator search-attribute create --namespace "${namespace}" --name "${name}" --type Keyword
done

for name in ${names}; do
  wait_for "a visibility query on ${name}" \
    "${temporal}" workflow list --namespace "${namespace}" --query "${name} = 'ftpipe-setup-probe'" --limit 1
done
echo "temporal-setup: namespace ${namespace} has ftpipe's search attributes:${names}"
