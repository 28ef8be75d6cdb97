#!/bin/sh
# Makes a throwaway PKI for the TLS tests in DIR with the openssl command line:
#   ca.pem            the test CA (trusted with --ca-file)
#   server.pem/.key   localhost + 127.0.0.1, signed by ca.pem, valid now
#   wrong-name.pem    signed by ca.pem, but only for wrong.example
#   expired.pem       signed by ca.pem, valid in January 2020 only
#   untrusted.pem     localhost + 127.0.0.1, signed by another CA (other-ca.pem)
# Every certificate uses server.key. Usage: tls_certs.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # NAME SUBJECT
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 3 -sha256 -out "$1.pem" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign"
  mkdir -p "$1.db/new"
  : >"$1.db/index.txt"
  echo 1000 >"$1.db/serial"
}
# leaf CA NAME SAN [openssl-ca date options...]
leaf() {
  ca_name=$1 name=$2 san=$3
  shift 3
  cat >"$name.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = $ca_name.db/index.txt
new_certs_dir = $ca_name.db/new
serial = $ca_name.db/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[leaf]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
CNF
  cn=$(echo "$san" | sed "s/^[A-Z]*://; s/,.*//")
  openssl req -new -key server.key -subj "/CN=$cn" -out "$name.csr" 2>/dev/null
  openssl ca -batch -notext -config "$name.cnf" -extensions leaf -cert "$ca_name.pem" -keyfile "$ca_name.key" \
    -in "$name.csr" -out "$name.pem" "$@" 2>/dev/null
}

key server.key
ca ca "supervent test CA"
ca other-ca "some other CA"
leaf ca server "DNS:localhost,IP:127.0.0.1" -days 3
leaf ca wrong-name "DNS:wrong.example" -days 3
leaf ca expired "DNS:localhost,IP:127.0.0.1" -startdate 20200101000000Z -enddate 20200131000000Z
leaf other-ca untrusted "DNS:localhost,IP:127.0.0.1" -days 3
echo "test PKI in $dir"
