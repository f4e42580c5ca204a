#!/bin/sh
# Prepares a Temporal namespace for ftpipe on a cluster: waits until the namespace exists, registers ftpipe's
# search attributes (Keyword, or the type given as NAME=Int), then waits until visibility accepts a query on each (a new attribute is refused for a moment
# after it is registered). Registering an attribute that exists with the same type is a no-op, so a re-run succeeds;
# every other error fails the script (a different type, no free slot in SQL visibility, an unreachable server).
# Usage: temporal-setup.sh NAME[=Int]...  (src/temporal/search-attributes.ts, searchAttributeSpec)
# Reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE (default "default") as the temporal CLI does; TEMPORAL_CLI names the
# binary (default: temporal on PATH); FTPIPE_SETUP_ATTEMPTS bounds each wait (default 120, one a second).
# Used by docker-compose.yml's temporal-setup service and by the cluster test (test/cluster/production-cluster.ts).
set -eu

if [ "$#" -eq 0 ]; then
  echo "usage: $0 SEARCH_ATTRIBUTE_NAME[=Int]..." >&2
  exit 2
fi
namespace="${TEMPORAL_NAMESPACE:-default}"
attempts="${FTPIPE_SETUP_ATTEMPTS:-120}"
temporal="${TEMPORAL_CLI:-temporal}"

names=""
specs=""
for spec do
  name="${spec%%=*}"
  type=Keyword
  case "${spec}" in *=*) type="${spec#*=}" ;; esac
  case "${name}" in
    '' | [!A-Za-z]* | *[!A-Za-z0-9_]*)
      echo "temporal-setup: '${name}' is not a search attribute name" >&2
      exit 2
      ;;
  esac
  case "${type}" in
    Keyword | Int) ;;
    *)
      echo "temporal-setup: '${type}' is not a type ftpipe uses (Keyword, Int)" >&2
      exit 2
      ;;
  esac
  names="${names} ${name}"
  specs="${specs} ${name}=${type}"
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
for spec in ${specs}; do
  "${temporal}" operator search-attribute create --namespace "${namespace}" --name "${spec%%=*}" --type "${spec#*=}"
done

for spec in ${specs}; do
  name="${spec%%=*}"
  probe="'ftpipe-setup-probe'"
  [ "${spec#*=}" = Int ] && probe=0
  wait_for "a visibility query on ${name}" \
    "${temporal}" workflow list --namespace "${namespace}" --query "${name} = ${probe}" --limit 1
done
echo "temporal-setup: namespace ${namespace} has ftpipe's search attributes:${names}"
