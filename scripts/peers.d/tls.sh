# shellcheck shell=bash
# Sourced by scripts/peers: a certificate authority of each instance's own and the certificates it signs.
# ECDSA P-256 keys (fast to make; every peer and client here takes them), unencrypted PKCS#8 PEM: what
# librdkafka's ssl.key.location, libpq, redis and Erlang read.

# A config for `openssl req` with no system defaults: name $1, then the x509 extension lines.
tls_req_config() { # CN EXTENSION...
  local cn=$1; shift
  printf '[req]\nprompt = no\ndistinguished_name = dn\nx509_extensions = ext\n[dn]\nCN = %s\n[ext]\n' "$cn"
  printf '%s\n' "$@"
}

# $1/ca.key and $1/ca.crt: a CA valid for ten years, named after the instance.
tls_make_ca() { # DIR INSTANCE
  local dir=$1
  mkdir -p "$dir"
  need openssl "install openssl (apt-get install openssl)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" \
    -config <(tls_req_config "opsdeck peers $2 CA" "basicConstraints=critical,CA:TRUE" \
      "keyUsage=critical,keyCertSign,cRLSign" subjectKeyIdentifier=hash) 2>/dev/null \
    || die "openssl could not make the CA in $dir"
  chmod 600 "$dir/ca.key"
}

# $1/NAME.key and $1/NAME.crt signed by $1/ca.*: a server certificate (USAGE serverAuth, SAN e.g.
# DNS:localhost,IP:127.0.0.1) or a client one (clientAuth; SAN may be empty).
tls_make_cert() { # DIR NAME CN USAGE [SAN]
  local dir=$1 name=$2 cn=$3 usage=$4 san=${5:-}
  local ext=("basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature"
    "extendedKeyUsage=$usage" subjectKeyIdentifier=hash authorityKeyIdentifier=keyid)
  [[ -n $san ]] && ext+=("subjectAltName=$san")
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$name.key" \
    -out "$dir/$name.csr" -config <(tls_req_config "$cn") 2>/dev/null \
    || die "openssl could not make the key $dir/$name.key"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -days 825 \
    -set_serial "0x$(openssl rand -hex 16)" -out "$dir/$name.crt" -extfile <(printf '%s\n' "${ext[@]}") 2>/dev/null \
    || die "openssl could not sign the certificate $dir/$name.crt"
  rm -f "$dir/$name.csr"
  chmod 600 "$dir/$name.key"
}

# The usual set: a CA, a server certificate for localhost and 127.0.0.1, a client certificate CN=opsdeck.
tls_make_set() { # DIR INSTANCE
  tls_make_ca "$1" "$2"
  tls_make_cert "$1" server localhost serverAuth DNS:localhost,IP:127.0.0.1
  tls_make_cert "$1" client opsdeck clientAuth
}

# A password for a test user: 24 random letters and digits (nothing a shell, URL or config must escape).
new_password() { openssl rand -base64 48 | tr -dc 'A-Za-z0-9' | head -c 24; }
