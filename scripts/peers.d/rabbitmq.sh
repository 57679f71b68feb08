# shellcheck shell=bash
# Sourced by scripts/peers: `up rabbitmq`, a RabbitMQ node (Debian's rabbitmq-server) with the
# management plugin, under the instance's supervisord.
#
# Everything is the instance's own: node name, Erlang cookie (HOME), mnesia and log dirs, config,
# enabled-plugins file, and an epmd on a port of its own (a second program of the supervisord, so two
# runs on one machine never share one and `down` stops it). Ports on 127.0.0.1: AMQP, distribution,
# management over http and over https (certificate from the instance's CA). Users (loaded from a
# definitions file at boot; passwords made per instance; no guest):
#   opsdeck_admin  administrator, all permissions on /   (setup)
#   opsdeck_ro     tag monitoring, no permissions on any vhost
#   opsdeck_op     tag management, configure/write/read on /
# `. $OPSDECK_RABBITMQ_HOME/rabbitmq.env; /usr/lib/rabbitmq/bin/rabbitmqctl status` talks to it by hand.

RABBITMQ_INSTANCE=rabbitmq
RABBITMQ_SBIN=/usr/lib/rabbitmq/bin

# A password hash as the definitions file takes it: base64(salt ‖ SHA-256(salt ‖ password)), 4-byte salt.
rabbitmq_password_hash() {
  python3 -c 'import base64, hashlib, os, sys
salt = os.urandom(4)
print(base64.b64encode(salt + hashlib.sha256(salt + sys.argv[1].encode()).digest()).decode())' "$1"
}

rabbitmq_definitions() { # ADMIN RO OP (passwords)
  local sha=rabbit_password_hashing_sha256
  cat <<EOF
{
  "users": [
    {"name": "opsdeck_admin", "password_hash": "$(rabbitmq_password_hash "$1")", "hashing_algorithm": "$sha", "tags": ["administrator"]},
    {"name": "opsdeck_ro", "password_hash": "$(rabbitmq_password_hash "$2")", "hashing_algorithm": "$sha", "tags": ["monitoring"]},
    {"name": "opsdeck_op", "password_hash": "$(rabbitmq_password_hash "$3")", "hashing_algorithm": "$sha", "tags": ["management"]}
  ],
  "vhosts": [{"name": "/"}],
  "permissions": [
    {"user": "opsdeck_admin", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
    {"user": "opsdeck_op", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
  ]
}
EOF
}

rabbitmq_conf() { # DIR AMQP HTTP HTTPS ADMIN_PASSWORD
  local dir=$1
  cat <<EOF
listeners.tcp.default = 127.0.0.1:$2
management.tcp.ip = 127.0.0.1
management.tcp.port = $3
management.ssl.ip = 127.0.0.1
management.ssl.port = $4
management.ssl.cacertfile = $dir/tls/ca.crt
management.ssl.certfile = $dir/tls/server.crt
management.ssl.keyfile = $dir/tls/server.key
# The user a fresh node would make (else guest): the administrator, as in the definitions.
default_user = opsdeck_admin
default_pass = $5
default_user_tags.administrator = true
load_definitions = $dir/definitions.json
log.file = rabbit.log
log.console = true
log.console.use_colors = off
EOF
}

# The node's environment, for the server and for rabbitmqctl by hand.
rabbitmq_env() { # DIR NODENAME EPMD_PORT DIST_PORT
  local dir=$1
  cat <<EOF
export HOME=$dir/home
export ERL_EPMD_PORT=$3 ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_NODENAME=$2
export RABBITMQ_DIST_PORT=$4
export RABBITMQ_MNESIA_BASE=$dir/mnesia
export RABBITMQ_LOG_BASE=$dir/log
export RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
export RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
export RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
# Never start an epmd of its own (the instance's runs already); distribution on loopback only; no
# busy-waiting schedulers on a shared 2-core machine.
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-start_epmd false -kernel inet_dist_use_interface {127,0,0,1} +sbwt none +sbwtdcpu none +sbwtdio none'
EOF
}

up_rabbitmq() {
  (( $# == 0 )) || die "up rabbitmq takes no arguments"
  local inst=$RABBITMQ_INSTANCE dir=$STATE/$RABBITMQ_INSTANCE
  if ! running "$inst"; then
    [[ -x $RABBITMQ_SBIN/rabbitmq-server ]] || die "no $RABBITMQ_SBIN/rabbitmq-server (apt-get install rabbitmq-server)"
    need epmd "install Erlang's epmd (apt-get install rabbitmq-server)"
    need curl "install curl"
    local t0 node epmd_port amqp dist http https admin_pw ro_pw op_pw; t0=$(now_ms)
    rm -rf "$dir"; mkdir -p "$dir/home" "$dir/mnesia" "$dir/log" "$dir/epmd" "$dir/node"
    tls_make_set "$dir/tls" "$inst"
    epmd_port=$(free_port); amqp=$(free_port); dist=$(free_port); http=$(free_port); https=$(free_port)
    node=opsdeck-peers-$(openssl rand -hex 4)@localhost
    admin_pw=$(new_password); ro_pw=$(new_password); op_pw=$(new_password)
    (umask 077
      openssl rand -hex 20 >"$dir/home/.erlang.cookie"
      rabbitmq_conf "$dir" "$amqp" "$http" "$https" "$admin_pw" >"$dir/rabbitmq.conf"
      rabbitmq_definitions "$admin_pw" "$ro_pw" "$op_pw" >"$dir/definitions.json")
    chmod 400 "$dir/home/.erlang.cookie"
    echo '[rabbitmq_management].' >"$dir/enabled_plugins"
    rabbitmq_env "$dir" "$node" "$epmd_port" "$dist" >"$dir/rabbitmq.env"
    # The node waits for its epmd (started beside it) instead of starting one that would outlive `down`.
    {
      printf 'epmd\t%s\t%s\n' "$dir/epmd" "$(command -v epmd) -port $epmd_port -address 127.0.0.1"
      printf 'node\t%s\t%s\n' "$dir/node" "/bin/sh -c '. $dir/rabbitmq.env && until epmd -names >/dev/null 2>&1; \
do sleep 0.1; done && exec $RABBITMQ_SBIN/rabbitmq-server'"
    } | write_supervisor_conf "$inst"
    {
      env_line OPSDECK_RABBITMQ "amqp://127.0.0.1:$amqp"
      env_line OPSDECK_RABBITMQ_MANAGEMENT "http://127.0.0.1:$http"
      env_line OPSDECK_RABBITMQ_MANAGEMENT_TLS "https://127.0.0.1:$https"
      env_line OPSDECK_RABBITMQ_TLS_CA "$dir/tls/ca.crt"
      env_line OPSDECK_RABBITMQ_NODE "$node"
      env_line OPSDECK_RABBITMQ_ADMIN_USER opsdeck_admin
      env_line OPSDECK_RABBITMQ_ADMIN_PASSWORD "$admin_pw"
      env_line OPSDECK_RABBITMQ_RO_USER opsdeck_ro
      env_line OPSDECK_RABBITMQ_RO_PASSWORD "$ro_pw"
      env_line OPSDECK_RABBITMQ_OP_USER opsdeck_op
      env_line OPSDECK_RABBITMQ_OP_PASSWORD "$op_pw"
      env_line OPSDECK_RABBITMQ_HOME "$dir"
    } >"$dir/env"
    start_supervisor "$inst"
    wait_ready "$inst" rabbitmq_answers "http://127.0.0.1:$http" opsdeck_ro "$ro_pw"
    say "$inst: RabbitMQ $(rabbitmq_version "http://127.0.0.1:$http" "$ro_pw") with management ready in $(elapsed "$t0")"
    rss_report "$inst"
  else
    rabbitmq_answers "$(instance_env "$inst" OPSDECK_RABBITMQ_MANAGEMENT)" opsdeck_ro \
      "$(instance_env "$inst" OPSDECK_RABBITMQ_RO_PASSWORD)" || die "$inst runs but does not answer: scripts/peers down $inst"
  fi
  instance_env "$inst" OPSDECK_RABBITMQ
  instance_env "$inst" OPSDECK_RABBITMQ_MANAGEMENT
  instance_env "$inst" OPSDECK_RABBITMQ_MANAGEMENT_TLS
}

# The HTTP status of a management API call: URL USER PASSWORD [curl options...].
rabbitmq_api() {
  local url=$1 user=$2 password=$3; shift 3
  curl -sS -m 10 -o /dev/null -w '%{http_code}' --cacert "$STATE/$RABBITMQ_INSTANCE/tls/ca.crt" \
    -K <(printf 'user = "%s:%s"\n' "$user" "$password") "$@" "$url"
}

rabbitmq_answers() { [[ $(rabbitmq_api "$1/api/overview" "$2" "$3" 2>/dev/null) == 200 ]]; }

rabbitmq_version() { # URL RO_PASSWORD
  curl -s -m 10 -K <(printf 'user = "opsdeck_ro:%s"\n' "$2") "$1/api/overview" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["rabbitmq_version"])' 2>/dev/null || echo '?'
}

# The first bytes a broker answers to AMQP 0-9-1's protocol header: a method frame (type 1) on
# channel 0 carrying connection.start (class 10, method 10).
rabbitmq_amqp_greets() { # amqp://HOST:PORT
  local hostport=${1#amqp://} hex
  hex=$( { exec 3<>"/dev/tcp/${hostport%:*}/${hostport##*:}" || exit 1
           printf 'AMQP\x00\x00\x09\x01' >&3
           timeout 5 head -c 11 <&3 | od -An -v -tx1 | tr -d ' \n'; } 2>/dev/null ) || return 1
  [[ ${hex:0:6} == 010000 && ${hex:14:8} == 000a000a ]] && echo connection.start
}

# Proves what `env` advertises: the AMQP port, each user over http and https (with the instance's CA,
# by IP and by name), what each tag allows, and the refusals.
check_rabbitmq() {
  local inst=$RABBITMQ_INSTANCE http https admin_pw ro_pw op_pw
  http=$(instance_env "$inst" OPSDECK_RABBITMQ_MANAGEMENT); https=$(instance_env "$inst" OPSDECK_RABBITMQ_MANAGEMENT_TLS)
  admin_pw=$(instance_env "$inst" OPSDECK_RABBITMQ_ADMIN_PASSWORD)
  ro_pw=$(instance_env "$inst" OPSDECK_RABBITMQ_RO_PASSWORD); op_pw=$(instance_env "$inst" OPSDECK_RABBITMQ_OP_PASSWORD)
  local queue=$http/api/queues/%2F/opsdeck-peers-check-$$ stranger
  stranger=$(mktemp -d); tls_make_ca "$stranger" stranger
  expect_output "rabbitmq: AMQP 0-9-1 on its port" connection.start \
    rabbitmq_amqp_greets "$(instance_env "$inst" OPSDECK_RABBITMQ)"
  expect_output "rabbitmq: opsdeck_admin over http" 200 rabbitmq_api "$http/api/overview" opsdeck_admin "$admin_pw"
  expect_output "rabbitmq: opsdeck_ro over https by IP" 200 rabbitmq_api "$https/api/overview" opsdeck_ro "$ro_pw"
  expect_output "rabbitmq: opsdeck_op over https as localhost" 200 \
    rabbitmq_api "https://localhost:${https##*:}/api/overview" opsdeck_op "$op_pw"
  expect_output "rabbitmq: opsdeck_ro (monitoring) sees the nodes" 200 rabbitmq_api "$http/api/nodes" opsdeck_ro "$ro_pw"
  expect_output "rabbitmq: opsdeck_op declares a queue" 201 rabbitmq_api "$queue" opsdeck_op "$op_pw" \
    -X PUT -H 'content-type: application/json' -d '{"auto_delete":false,"durable":false}'
  expect_output "rabbitmq: opsdeck_ro may not delete it" 401 rabbitmq_api "$queue" opsdeck_ro "$ro_pw" -X DELETE
  expect_output "rabbitmq: opsdeck_op deletes it" 204 rabbitmq_api "$queue" opsdeck_op "$op_pw" -X DELETE
  expect_output "rabbitmq: opsdeck_op (management) does not see the nodes" 401 \
    rabbitmq_api "$http/api/nodes" opsdeck_op "$op_pw"
  expect_output "rabbitmq: opsdeck_ro with a wrong password" 401 rabbitmq_api "$http/api/overview" opsdeck_ro "x$ro_pw"
  expect_output "rabbitmq: guest does not exist" 401 rabbitmq_api "$http/api/overview" guest guest
  expect_failure "rabbitmq: https trusting another CA" 'SSL certificate problem' \
    rabbitmq_api "$https/api/overview" opsdeck_ro "$ro_pw" --cacert "$stranger/ca.crt"
  rm -rf "$stranger"
}
