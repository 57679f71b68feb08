# shellcheck shell=bash
# Sourced by scripts/peers: `up postgres-tls`, a PostgreSQL cluster of its own that speaks TLS only.
#
# Two postmasters from one initdb, under the instance's supervisord:
#   primary     ssl=on with a certificate for localhost and 127.0.0.1 (verify-full passes); pg_hba
#               admits hostssl only (a plain connection is refused) and there is no Unix socket.
#               Roles: postgres (superuser, for setup), opsdeck_ro (pg_monitor and nothing else),
#               opsdeck_op (pg_signal_backend). Passwords are made per instance (scram-sha-256).
#   wrong-host  the same, presenting a certificate from the same CA for wrong.opsdeck.invalid:
#               verify-ca passes and verify-full must fail (the negative test of hostname checks).

PG_INSTANCE=postgres-tls

# The newest server binaries of the Debian package (initdb and postgres are not on PATH there).
pg_bindir() {
  local bin
  bin=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
  [[ -x $bin/initdb ]] || die "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  echo "$bin"
}

# The OS user the cluster runs as: initdb and postgres refuse root, so root hands it to `postgres`.
pg_os_user() { if (( EUID == 0 )); then echo postgres; else id -un; fi; }

as_pg_user() { # COMMAND...: run as the cluster's OS user
  if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi
}

# psql against a postmaster of the instance: ADDRESS USER PASSWORD SSLMODE HOST, then psql arguments.
# HOST is the name verify-full checks the certificate against ("": the address's IP).
pg_psql() {
  local address=$1 user=$2 password=$3 sslmode=$4 host=${5:-${1%:*}}; shift 5
  PGPASSWORD=$password PGCONNECT_TIMEOUT=5 PGSSLROOTCERT=$STATE/$PG_INSTANCE/tls/ca.crt \
    timeout 30 "$(pg_bindir)/psql" -X -q -At -v ON_ERROR_STOP=1 \
    "host=$host hostaddr=${address%:*} port=${address##*:} user=$user dbname=postgres sslmode=$sslmode" "$@"
}

pg_answers() { # ADDRESS ADMIN_PASSWORD SSLMODE: the superuser gets in
  [[ $(pg_psql "$1" postgres "$2" "$3" localhost -c 'SELECT 1' 2>/dev/null) == 1 ]]
}

pg_settings() { # PORT CERT KEY → lines appended to postgresql.conf (later lines win)
  cat <<EOF

# --- scripts/peers: a TLS-only test cluster on loopback ---
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = ''
ssl = on
ssl_cert_file = '$2'
ssl_key_file = '$3'
password_encryption = 'scram-sha-256'
log_connections = on
log_line_prefix = '%m [%p] %q%u@%d '
# A disposable cluster on a shared machine: small, and no waiting on the disk.
shared_buffers = '16MB'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

up_postgres_tls() {
  (( $# == 0 )) || die "up postgres-tls takes no arguments"
  local inst=$PG_INSTANCE dir=$STATE/$PG_INSTANCE
  if ! running "$inst"; then
    local bin user t0; bin=$(pg_bindir); user=$(pg_os_user); t0=$(now_ms)
    if (( EUID == 0 )); then
      id postgres >/dev/null 2>&1 || die "no user postgres to run the cluster as (apt-get install postgresql)"
    fi
    rm -rf "$dir"; mkdir -p "$dir/primary/data" "$dir/wrong-host"
    tls_make_ca "$dir/tls" "$inst"
    tls_make_cert "$dir/tls" server localhost serverAuth DNS:localhost,IP:127.0.0.1
    tls_make_cert "$dir/tls" wrong-host wrong.opsdeck.invalid serverAuth DNS:wrong.opsdeck.invalid
    local admin_pw ro_pw op_pw port wrong_port
    admin_pw=$(new_password); ro_pw=$(new_password); op_pw=$(new_password)
    port=$(free_port); wrong_port=$(free_port)
    printf '%s\n' "$admin_pw" >"$dir/primary/pwfile"
    chown -R "$user" "$dir/primary" "$dir/tls/server.key" "$dir/tls/wrong-host.key"
    chmod 700 "$dir/primary/data"
    as_pg_user test -r "$dir/tls/server.crt" \
      || die "user $user cannot read $dir/tls: OPSDECK_PEERS_DIR must be reachable by it"
    as_pg_user "$bin/initdb" -D "$dir/primary/data" -U postgres --pwfile="$dir/primary/pwfile" \
      --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync --no-instructions >"$dir/primary/initdb.log" 2>&1 \
      || { cat "$dir/primary/initdb.log" >&2; die "initdb failed"; }
    rm -f "$dir/primary/pwfile"
    printf '%s\n' "# TLS only: plain TCP is refused by name; there is no Unix socket." \
      "hostssl   all all 127.0.0.1/32 scram-sha-256" "hostnossl all all 127.0.0.1/32 reject" \
      >"$dir/primary/data/pg_hba.conf"
    cp -a "$dir/primary/data" "$dir/wrong-host/data"
    pg_settings "$port" "$dir/tls/server.crt" "$dir/tls/server.key" >>"$dir/primary/data/postgresql.conf"
    pg_settings "$wrong_port" "$dir/tls/wrong-host.crt" "$dir/tls/wrong-host.key" >>"$dir/wrong-host/data/postgresql.conf"
    # SIGINT is PostgreSQL's fast shutdown (TERM waits for every client to leave); only the postmaster
    # gets it, and it stops its children itself.
    local name
    for name in primary wrong-host; do
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$dir/$name" "$bin/postgres -D $dir/$name/data" \
        "user=$user" stopsignal=INT stopasgroup=false
    done | write_supervisor_conf "$inst"
    start_supervisor "$inst"
    wait_ready "$inst" pg_answers "127.0.0.1:$port" "$admin_pw" verify-full
    wait_ready "$inst" pg_answers "127.0.0.1:$wrong_port" "$admin_pw" verify-ca
    pg_psql "127.0.0.1:$port" postgres "$admin_pw" verify-full localhost -v ro="$ro_pw" -v op="$op_pw" <<'EOF' \
      || { stop_instance "$inst"; die "creating the roles of $inst failed"; }
CREATE ROLE opsdeck_ro LOGIN PASSWORD :'ro' IN ROLE pg_monitor;
CREATE ROLE opsdeck_op LOGIN PASSWORD :'op' IN ROLE pg_signal_backend;
EOF
    {
      env_line OPSDECK_POSTGRES_TLS "127.0.0.1:$port"
      env_line OPSDECK_POSTGRES_TLS_WRONG_HOST "127.0.0.1:$wrong_port"
      env_line OPSDECK_POSTGRES_TLS_CA "$dir/tls/ca.crt"
      env_line OPSDECK_POSTGRES_TLS_ADMIN_USER postgres
      env_line OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD "$admin_pw"
      env_line OPSDECK_POSTGRES_TLS_RO_USER opsdeck_ro
      env_line OPSDECK_POSTGRES_TLS_RO_PASSWORD "$ro_pw"
      env_line OPSDECK_POSTGRES_TLS_OP_USER opsdeck_op
      env_line OPSDECK_POSTGRES_TLS_OP_PASSWORD "$op_pw"
      env_line OPSDECK_POSTGRES_TLS_HOME "$dir"
    } >"$dir/env"
    say "$inst: PostgreSQL $("$bin/postgres" -V | awk '{print $3}') (TLS only) ready in $(elapsed "$t0")"
    rss_report "$inst"
  else
    pg_answers "$(instance_env "$inst" OPSDECK_POSTGRES_TLS)" \
      "$(instance_env "$inst" OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD)" verify-full || die "$inst runs but does not answer: scripts/peers down $inst"
  fi
  instance_env "$inst" OPSDECK_POSTGRES_TLS
}

# Proves what `env` advertises: each role gets in over verify-full (by name and by IP), with exactly
# its memberships; a wrong password, a plain connection and a certificate for another host are refused.
check_postgres_tls() {
  local inst=$PG_INSTANCE address wrong
  address=$(instance_env "$inst" OPSDECK_POSTGRES_TLS); wrong=$(instance_env "$inst" OPSDECK_POSTGRES_TLS_WRONG_HOST)
  local admin_pw ro_pw op_pw
  admin_pw=$(instance_env "$inst" OPSDECK_POSTGRES_TLS_ADMIN_PASSWORD)
  ro_pw=$(instance_env "$inst" OPSDECK_POSTGRES_TLS_RO_PASSWORD)
  op_pw=$(instance_env "$inst" OPSDECK_POSTGRES_TLS_OP_PASSWORD)
  local roles="SELECT string_agg(rolname, ',' ORDER BY rolname) FROM pg_roles WHERE pg_has_role(current_user, oid, 'member')"
  expect_output "postgres-tls: postgres verify-full by IP, superuser" on \
    pg_psql "$address" postgres "$admin_pw" verify-full "" -c 'SHOW is_superuser'
  expect_output "postgres-tls: postgres verify-full as localhost, TLS in use" t \
    pg_psql "$address" postgres "$admin_pw" verify-full localhost -c 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()'
  expect_output "postgres-tls: opsdeck_ro is in pg_monitor (and what it grants) only" \
    opsdeck_ro,pg_monitor,pg_read_all_settings,pg_read_all_stats,pg_stat_scan_tables \
    pg_psql "$address" opsdeck_ro "$ro_pw" verify-full localhost -c "$roles"
  expect_output "postgres-tls: opsdeck_op is in pg_signal_backend only" opsdeck_op,pg_signal_backend \
    pg_psql "$address" opsdeck_op "$op_pw" verify-full localhost -c "$roles"
  expect_failure "postgres-tls: opsdeck_ro with a wrong password" 'password authentication failed' \
    pg_psql "$address" opsdeck_ro "not-$ro_pw" verify-full localhost -c 'SELECT 1'
  expect_failure "postgres-tls: a connection without TLS" 'no encryption' \
    pg_psql "$address" postgres "$admin_pw" disable "" -c 'SELECT 1'
  expect_output "postgres-tls: wrong-host: its chain is valid (verify-ca)" 1 \
    pg_psql "$wrong" postgres "$admin_pw" verify-ca "" -c 'SELECT 1'
  expect_failure "postgres-tls: wrong-host: verify-full refuses its certificate" 'does not match host name' \
    pg_psql "$wrong" postgres "$admin_pw" verify-full localhost -c 'SELECT 1'
}
