#!/bin/sh
# One-shot (temporalio/admin-tools): create Crossdock's namespace and register its
# search attributes (workflows/search.py) once the server answers. Safe to run again.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}"
retention="${RETENTION:-30d}"

until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do sleep 2; done
temporal operator namespace describe -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" >/dev/null 2>&1 ||
  temporal operator namespace create -n "$NAMESPACE" --retention "$retention" --address "$TEMPORAL_ADDRESS"

# Name=Type pairs, one argument each (set by docker-compose.yml from workflows/search.py).
for pair in $SEARCH_ATTRIBUTES; do
  name=${pair%%=*}
  type=${pair#*=}
  temporal operator search-attribute create -n "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
    --name "$name" --type "$type" || echo "search attribute $name exists"
done
echo "namespace $NAMESPACE ready"
