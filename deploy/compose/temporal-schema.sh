#!/bin/sh
# One-shot (temporalio/admin-tools): create the `temporal` and `temporal_visibility`
# databases if missing and migrate both schemas to the server image's version. Safe to
# run again: `create` of an existing database and `update-schema` at the current
# version change nothing. (Temporal's compose reference does the same; the auto-setup
# image that used to do it at server start is deprecated.)
set -eu
: "${POSTGRES_SEEDS:?the database host}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
port="${DB_PORT:-5432}"
schema=/etc/temporal/schema/postgresql/v12
sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$port" -u "$POSTGRES_USER" "$@"; }

for db in temporal temporal_visibility; do
  dir=$([ "$db" = temporal ] && echo temporal || echo visibility)
  sql --db "$db" create || echo "database $db exists"
  # setup-schema -v 0.0 only creates the version table when it is missing.
  sql --db "$db" setup-schema -v 0.0 || echo "schema of $db already set up"
  sql --db "$db" update-schema -d "$schema/$dir/versioned"
done
echo "temporal schemas ready"
