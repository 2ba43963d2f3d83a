#!/bin/sh
# Container entrypoint. CUSTOM_CA_CERTS (comma-separated PEM files mounted as volumes) is
# checked here and also handed to Node as NODE_EXTRA_CA_CERTS, so every TLS client in the
# process trusts them (Labelvault's own connections read CUSTOM_CA_CERTS themselves).
# Roles: start (HTTP + jobs, the default), serve, worker, migrate, or any labelvault command.
set -eu
app_dir="${LABELVAULT_APP_DIR:-/app}"

if [ -n "${CUSTOM_CA_CERTS:-}" ]; then
  bundle="${TMPDIR:-/tmp}/labelvault-custom-ca.pem"
  : > "$bundle"
  old_ifs=$IFS
  IFS=','
  for file in $CUSTOM_CA_CERTS; do
    file=$(printf '%s' "$file" | sed 's/^[[:space:]]*//;s/[[:space:]]*$//')
    [ -z "$file" ] && continue
    if [ ! -r "$file" ]; then
      echo "CUSTOM_CA_CERTS: cannot read $file (mount it into the container)" >&2
      exit 2
    fi
    if ! grep -q -- '-----BEGIN CERTIFICATE-----' "$file"; then
      echo "CUSTOM_CA_CERTS: $file holds no PEM certificate" >&2
      exit 2
    fi
    cat "$file" >> "$bundle"
    printf '\n' >> "$bundle"
  done
  IFS=$old_ifs
  export NODE_EXTRA_CA_CERTS="$bundle"
fi

role="${1:-start}"
[ "$#" -gt 0 ] && shift
case "$role" in
  start) exec node "$app_dir/dist/main.js" "$@" ;;
  serve|worker|migrate|doctor|user|org|audit) exec node "$app_dir/dist/cli/main.js" "$role" "$@" ;;
  *) exec "$role" "$@" ;;
esac
