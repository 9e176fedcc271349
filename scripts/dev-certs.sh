#!/usr/bin/env bash
# Throw-away certificates for trying Remora's TLS and mTLS (and for its tests): a CA, a server
# and a client, each leaf with a SPIFFE URI SAN, written to DIR (default /tmp/remora-certs):
#
#   ca.crt ca.key                 the CA (ECDSA P-256), trusted by both sides
#   server.crt server.key         DNS:localhost, DNS:server.remora.test, IP:127.0.0.1,
#                                 URI:spiffe://remora.test/ns/default/sa/server
#   client.crt client.key         URI:spiffe://remora.test/ns/orders/sa/orders, DNS:orders.remora.test
#   wildcard.crt wildcard.key     DNS:*.wild.remora.test, an RSA 2048 key (a second SNI name)
#   expired-client.crt/.key       like client, but expired in 2021
#   other-ca.crt other-client.crt/.key   a client from a CA nobody trusts
#
#   scripts/dev-certs.sh [DIR]
#
# Only the openssl CLI is used. Keys are unencrypted: for tests and local trials only.
set -euo pipefail
dir=${1:-/tmp/remora-certs}
mkdir -p "$dir"
cd "$dir"
days=${DEV_CERT_DAYS:-30}

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() {  # NAME SUBJECT
  ec_key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "$2" -days "$days" -out "$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
}

# NAME CA SUBJECT SANS EXTENDED_KEY_USAGE [openssl ca date options...]
issue() {
  local name=$1 ca=$2 subject=$3 sans=$4 eku=$5
  shift 5
  [[ -f "$name.key" ]] || ec_key "$name.key"
  openssl req -new -key "$name.key" -subj "$subject" -out "$name.csr" 2>/dev/null
  cat > "$name.ext" <<EXT
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=$eku
subjectAltName=$sans
EXT
  if [[ $# -eq 0 ]]; then
    openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
      -days "$days" -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  else
    # Backdated validity needs `openssl ca`, whose -startdate/-enddate x509 -req lacks.
    local db
    db=$(mktemp -d)
    touch "$db/index.txt"
    echo 1000 > "$db/serial"
    cat > "$db/ca.cnf" <<CNF
[ca]
default_ca = dev
[dev]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = any
copy_extensions = none
[any]
commonName = supplied
CNF
    openssl ca -batch -config "$db/ca.cnf" -cert "$ca.crt" -keyfile "$ca.key" -in "$name.csr" \
      -extfile "$name.ext" -notext -out "$name.crt" "$@" 2>/dev/null
    rm -rf "$db"
  fi
  rm -f "$name.csr" "$name.ext"
}

make_ca ca "/CN=Remora dev CA"
issue server ca "/CN=server.remora.test" \
  "DNS:localhost,DNS:server.remora.test,IP:127.0.0.1,URI:spiffe://remora.test/ns/default/sa/server" \
  serverAuth,clientAuth
issue client ca "/CN=orders" \
  "URI:spiffe://remora.test/ns/orders/sa/orders,DNS:orders.remora.test" clientAuth,serverAuth
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wildcard.key 2>/dev/null
issue wildcard ca "/CN=*.wild.remora.test" "DNS:*.wild.remora.test" serverAuth
issue expired-client ca "/CN=expired" "URI:spiffe://remora.test/ns/orders/sa/expired" clientAuth \
  -startdate 20210101000000Z -enddate 20210201000000Z
make_ca other-ca "/CN=Someone else's CA"
issue other-client other-ca "/CN=intruder" "URI:spiffe://elsewhere.test/ns/x/sa/intruder" clientAuth
rm -f ./*.srl
chmod 600 ./*.key
echo "remora dev certificates in $dir: ca server client wildcard expired-client other-ca other-client"
