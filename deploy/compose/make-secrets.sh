#!/bin/sh
# Write random secrets for docker-compose.yml into ./secrets (mode 0600), once. Each
# file is mounted as a Docker secret and read by the Crossdock processes through
# CROSSDOCK_SECRETS_DIR (crossdock/config.py). Partner credentials are not generated:
# write the partner's own value into secrets/crossdock_<setting> (e.g.
# crossdock_payments_api_key), or run the demo profile against the sandbox.
set -eu
dir="${1:-secrets}"
mkdir -p "$dir"
chmod 700 "$dir"
umask 077
random() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }
write() { [ -s "$dir/$1" ] || printf '%s' "$2" > "$dir/$1"; }

write crossdock_codec_keys "k1:$(random)"
for name in principal_key buyer_key stripe_webhook_secret storefront_signing_secret \
  easypost_webhook_secret; do
  write "crossdock_$name" "$(random | tr '+/' '-_')"
done
write crossdock_db_password "$(random | tr -d '+/=')"
write crossdock_database_url \
  "postgresql://crossdock:$(cat "$dir/crossdock_db_password")@crossdock-db:5432/crossdock"
write grafana_admin_password "$(random)"
echo "secrets in $dir/ (keep them out of version control)"
