#!/usr/bin/env bash
# Development certificates for a TLS cluster (openssl): a local CA, and one certificate per node
# naming it by the DNS name n<ID>.trireme.local (the identity peers check, see the README's
# Security section), plus localhost and 127.0.0.1 for the API.
#   cluster/certs.sh init                 the CA: ca.pem, ca-key.pem (kept if present)
#   cluster/certs.sh issue ID [SAN...]    n<ID>.pem (certificate) and n<ID>-key.pem, signed by the CA;
#                                         extra SANs in openssl syntax: IP:127.0.0.11 DNS:node1.example
# Folder: $TRIREME_CERTS_DIR, default cluster/run/certs. Validity: $TRIREME_CERT_DAYS (default 825).
# For development and tests only: the CA key sits unencrypted beside the certificates.
set -euo pipefail
DIR="${TRIREME_CERTS_DIR:-$(cd "$(dirname "$0")" && pwd)/run/certs}"
DAYS="${TRIREME_CERT_DAYS:-825}"
usage() { echo "usage: $0 init | issue ID [SAN...]" >&2; exit 2; }
mkdir -p "$DIR"
umask 077

case "${1:-}" in
  init)
    if [ -s "$DIR/ca.pem" ] && [ -s "$DIR/ca-key.pem" ]; then echo "CA exists: $DIR/ca.pem"; exit 0; fi
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ca-key.pem" 2>/dev/null
    openssl req -x509 -new -key "$DIR/ca-key.pem" -sha256 -days "$DAYS" -subj "/CN=Trireme development CA" \
      -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$DIR/ca.pem"
    chmod 644 "$DIR/ca.pem"
    echo "created CA $DIR/ca.pem"
    ;;
  issue)
    ID="${2:-}"
    [[ "$ID" =~ ^[1-9][0-9]*$ ]] || usage
    shift 2
    [ -s "$DIR/ca.pem" ] || { echo "no CA in $DIR: run '$0 init' first" >&2; exit 1; }
    sans="DNS:n$ID.trireme.local,DNS:localhost,IP:127.0.0.1"
    for san in "$@"; do sans="$sans,$san"; done
    ext="$(mktemp)"; csr="$(mktemp)"
    trap 'rm -f "$ext" "$csr"' EXIT
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$sans" > "$ext"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/n$ID-key.pem" 2>/dev/null
    openssl req -new -key "$DIR/n$ID-key.pem" -subj "/CN=n$ID.trireme.local" -out "$csr"
    openssl x509 -req -in "$csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
      -days "$DAYS" -sha256 -extfile "$ext" -out "$DIR/n$ID.pem" 2>/dev/null
    chmod 644 "$DIR/n$ID.pem"
    echo "issued $DIR/n$ID.pem ($sans)"
    ;;
  *) usage ;;
esac
