#!/usr/bin/env bash
# A throwaway PostgreSQL that logs in by client certificate only, for tests/client_cert.rs:
#   tests/cert-server.sh up DIR     CA, server and client (CN=opsdeck_cert) certificates in DIR/tls, a cluster
#                                   in DIR/data: hostssl + `cert` only. Prints its port.
#   tests/cert-server.sh down DIR   stops it and removes DIR.
# Debian's PostgreSQL, run as user postgres when root (initdb refuses root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
say() { printf '[cert-server] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }
need() { command -v "$1" >/dev/null || die "$1 not found: $2"; }
# shellcheck source-path=SCRIPTDIR source=../../../scripts/peers.d/tls.sh
source "$ROOT/scripts/peers.d/tls.sh"
BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
[[ -x $BIN/initdb ]] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin"
as_pg() { if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi; }

case ${1:-} in
up)
  dir=$2
  mkdir -p "$dir"
  tls_make_ca "$dir/tls" cert-test
  tls_make_cert "$dir/tls" server localhost serverAuth DNS:localhost,IP:127.0.0.1
  tls_make_cert "$dir/tls" client opsdeck_cert clientAuth
  chmod 755 "$dir" "$dir/tls"
  (( EUID == 0 )) && chown postgres "$dir" "$dir/tls/server.key"
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync --no-instructions >/dev/null
  printf '%s\n' "listen_addresses = '127.0.0.1'" "port = $port" "unix_socket_directories = '$dir'" "ssl = on" \
    "ssl_cert_file = '$dir/tls/server.crt'" "ssl_key_file = '$dir/tls/server.key'" "ssl_ca_file = '$dir/tls/ca.crt'" \
    "fsync = off" "shared_buffers = '16MB'" >>"$dir/data/postgresql.conf"
  # TCP: TLS with a client certificate whose CN is the role, nothing else; the socket is for setup only.
  printf '%s\n' "local all postgres trust" "hostssl all all 127.0.0.1/32 cert" >"$dir/data/pg_hba.conf"
  as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null
  as_pg "$BIN/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -c "CREATE ROLE opsdeck_cert LOGIN IN ROLE pg_monitor"
  echo "$port"
  ;;
down)
  as_pg "$BIN/pg_ctl" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$2"
  ;;
*) die "usage: $0 up|down DIR" ;;
esac
