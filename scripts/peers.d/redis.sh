# shellcheck shell=bash
# Sourced by scripts/peers: `up redis`, a redis-server of the instance's own (Debian's package).
#
# One server, two ports on 127.0.0.1: plain, and TLS (certificate from the instance's CA; a client
# certificate is optional, and checked against that CA when one is shown). Nothing persists: no RDB
# snapshots, no AOF, its dir under the instance. Users (ACL, passwords made per instance):
#   default     every command (setup); no command runs unauthenticated
#   opsdeck_ro  reads and diagnostics only (INFO, SLOWLOG GET, LATENCY, SCAN, LLEN, TYPE, CONFIG GET, ...),
#               on keys it may only read
#   opsdeck_op  those plus the remediations (BGSAVE, RENAME, LPUSH, RPOPLPUSH, LMOVE, DEL, ...); never
#               FLUSHALL, CONFIG SET, KEYS, SHUTDOWN or DEBUG

REDIS_INSTANCE=redis
REDIS_RO_COMMANDS=(+ping +select +info +dbsize +scan +type +exists +ttl +pttl +llen +lrange +lindex +xlen
  +hlen +scard +zcard +memory\|usage +slowlog\|get +slowlog\|len +latency\|latest +latency\|history
  +latency\|doctor +config\|get +client\|list +client\|getname)
REDIS_OP_COMMANDS=("${REDIS_RO_COMMANDS[@]}" +bgsave +lastsave +rename +lpush +rpush +rpoplpush +lmove +lrem +del +unlink)

# redis-cli against the instance: ADDRESS (redis://HOST:PORT or rediss://) USER PASSWORD, then
# redis-cli options and the command. Exit status 1 when the server answers an error (-e).
redis_cli() {
  local url=$1 user=$2 password=$3; shift 3
  local hostport=${url#*://} tls=()
  [[ $url == rediss://* ]] && tls=(--tls --cacert "$STATE/$REDIS_INSTANCE/tls/ca.crt")
  REDISCLI_AUTH=$password timeout 10 redis-cli -e --user "$user" -h "${hostport%:*}" -p "${hostport##*:}" \
    "${tls[@]}" "$@"
}

redis_conf() { # DIR PORT TLS_PORT ADMIN RO OP
  local dir=$1
  cat <<EOF
bind 127.0.0.1
port $2
tls-port $3
tls-cert-file $dir/tls/server.crt
tls-key-file $dir/tls/server.key
tls-ca-cert-file $dir/tls/ca.crt
tls-auth-clients optional
protected-mode yes
daemonize no
dir $dir/data
save ""
appendonly no
logfile ""
user default on >$4 ~* &* +@all
user opsdeck_ro on >$5 resetchannels %R~* -@all ${REDIS_RO_COMMANDS[*]}
user opsdeck_op on >$6 resetchannels ~* -@all ${REDIS_OP_COMMANDS[*]}
EOF
}

up_redis() {
  (( $# == 0 )) || die "up redis takes no arguments"
  local inst=$REDIS_INSTANCE dir=$STATE/$REDIS_INSTANCE
  if ! running "$inst"; then
    need redis-server "install Redis (apt-get install redis-server)"
    need redis-cli "install Redis's client (apt-get install redis-tools)"
    local t0 port tls_port admin_pw ro_pw op_pw; t0=$(now_ms)
    rm -rf "$dir"; mkdir -p "$dir/data"
    tls_make_set "$dir/tls" "$inst"
    port=$(free_port); tls_port=$(free_port)
    admin_pw=$(new_password); ro_pw=$(new_password); op_pw=$(new_password)
    (umask 077; redis_conf "$dir" "$port" "$tls_port" "$admin_pw" "$ro_pw" "$op_pw" >"$dir/redis.conf")
    printf 'redis\t%s\t%s\n' "$dir" "$(command -v redis-server) $dir/redis.conf" | write_supervisor_conf "$inst"
    {
      env_line OPSDECK_REDIS "redis://127.0.0.1:$port"
      env_line OPSDECK_REDIS_TLS "rediss://127.0.0.1:$tls_port"
      env_line OPSDECK_REDIS_TLS_CA "$dir/tls/ca.crt"
      env_line OPSDECK_REDIS_TLS_CERT "$dir/tls/client.crt"
      env_line OPSDECK_REDIS_TLS_KEY "$dir/tls/client.key"
      env_line OPSDECK_REDIS_ADMIN_USER default
      env_line OPSDECK_REDIS_ADMIN_PASSWORD "$admin_pw"
      env_line OPSDECK_REDIS_RO_USER opsdeck_ro
      env_line OPSDECK_REDIS_RO_PASSWORD "$ro_pw"
      env_line OPSDECK_REDIS_OP_USER opsdeck_op
      env_line OPSDECK_REDIS_OP_PASSWORD "$op_pw"
      env_line OPSDECK_REDIS_HOME "$dir"
    } >"$dir/env"
    start_supervisor "$inst"
    wait_ready "$inst" redis_answers "redis://127.0.0.1:$port" "$admin_pw"
    say "$inst: Redis $(redis-server --version | grep -o 'v=[^ ]*' | cut -c3-) ready in $(elapsed "$t0")"
    rss_report "$inst"
  else
    redis_answers "$(instance_env "$inst" OPSDECK_REDIS)" "$(instance_env "$inst" OPSDECK_REDIS_ADMIN_PASSWORD)" \
      || die "$inst runs but does not answer: scripts/peers down $inst"
  fi
  instance_env "$inst" OPSDECK_REDIS
  instance_env "$inst" OPSDECK_REDIS_TLS
}

redis_answers() { [[ $(redis_cli "$1" default "$2" ping 2>/dev/null) == PONG ]]; }

# Proves what `env` advertises: each user on each port, TLS with and without a client certificate, and
# the refusals: no password, a wrong one, a certificate from another CA, and commands a user lacks.
check_redis() {
  local inst=$REDIS_INSTANCE plain tls admin_pw ro_pw op_pw
  plain=$(instance_env "$inst" OPSDECK_REDIS); tls=$(instance_env "$inst" OPSDECK_REDIS_TLS)
  admin_pw=$(instance_env "$inst" OPSDECK_REDIS_ADMIN_PASSWORD)
  ro_pw=$(instance_env "$inst" OPSDECK_REDIS_RO_PASSWORD); op_pw=$(instance_env "$inst" OPSDECK_REDIS_OP_PASSWORD)
  local home; home=$(instance_env "$inst" OPSDECK_REDIS_HOME)
  local stranger; stranger=$(mktemp -d)
  tls_make_set "$stranger" stranger
  local key=opsdeck-peers-check-$$
  expect_output "redis: default user (plain)" PONG redis_cli "$plain" default "$admin_pw" ping
  expect_output "redis: opsdeck_ro over TLS without a client certificate" PONG redis_cli "$tls" opsdeck_ro "$ro_pw" ping
  expect_output "redis: opsdeck_op over TLS with the client certificate" PONG \
    redis_cli "$tls" opsdeck_op "$op_pw" --cert "$home/tls/client.crt" --key "$home/tls/client.key" ping
  expect_output "redis: opsdeck_ro reads (INFO, CONFIG GET, SLOWLOG GET)" ok \
    redis_ro_reads "$plain" "$ro_pw"
  expect_output "redis: opsdeck_op LPUSH, RPOPLPUSH, RENAME, DEL" 1,v,1 redis_op_writes "$plain" "$op_pw" "$key"
  local hostport=${plain#redis://}
  expect_failure "redis: no password" NOAUTH timeout 10 redis-cli -e -h "${hostport%:*}" -p "${hostport##*:}" ping
  expect_failure "redis: opsdeck_ro with a wrong password" WRONGPASS redis_cli "$plain" opsdeck_ro "x$ro_pw" ping
  expect_failure "redis: opsdeck_ro LPUSH" NOPERM redis_cli "$plain" opsdeck_ro "$ro_pw" lpush "$key" v
  expect_failure "redis: opsdeck_ro SLOWLOG RESET" NOPERM redis_cli "$plain" opsdeck_ro "$ro_pw" slowlog reset
  expect_failure "redis: opsdeck_op CONFIG SET" NOPERM redis_cli "$plain" opsdeck_op "$op_pw" config set maxmemory 1
  expect_failure "redis: opsdeck_op FLUSHALL" NOPERM redis_cli "$plain" opsdeck_op "$op_pw" flushall
  expect_output "redis: TLS refuses a client certificate from another CA" refused \
    redis_refuses_certificate "$tls" "$ro_pw" "$stranger" "$home/console.log"
  expect_failure "redis: TLS trusting another CA" 'certificate verify failed' \
    redis_cli "$tls" opsdeck_ro "$ro_pw" --cacert "$stranger/ca.crt" ping
  rm -rf "$stranger"
}

# "refused" when a client showing a certificate of another CA gets no answer and the server logged why.
redis_refuses_certificate() { # URL RO_PASSWORD OTHER_TLS_DIR SERVER_LOG
  local before; before=$(grep -c 'certificate verify failed' "$4" || true)
  redis_cli "$1" opsdeck_ro "$2" --cert "$3/client.crt" --key "$3/client.key" ping >/dev/null 2>&1 && return 1
  (( $(grep -c 'certificate verify failed' "$4" || true) > before )) && echo refused
}

redis_ro_reads() { # URL PASSWORD → "ok" when opsdeck_ro may read what a dashboard needs
  redis_cli "$1" opsdeck_ro "$2" info server | grep -q '^redis_version:' \
    && [[ $(redis_cli "$1" opsdeck_ro "$2" config get maxmemory | head -1) == maxmemory ]] \
    && redis_cli "$1" opsdeck_ro "$2" slowlog get 1 >/dev/null && echo ok
}

redis_op_writes() { # URL PASSWORD KEY → "1,v,1": pushed one, moved it, deleted the renamed list
  local a=$3 b=$3-moved c=$3-renamed pushed moved deleted
  pushed=$(redis_cli "$1" opsdeck_op "$2" lpush "$a" v) && moved=$(redis_cli "$1" opsdeck_op "$2" rpoplpush "$a" "$b") \
    && redis_cli "$1" opsdeck_op "$2" rename "$b" "$c" >/dev/null && deleted=$(redis_cli "$1" opsdeck_op "$2" del "$c") \
    && echo "$pushed,$moved,$deleted"
}
