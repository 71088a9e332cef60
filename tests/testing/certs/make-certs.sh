#!/usr/bin/env bash
# Regenerates the TEST-ONLY certificates of this directory (never use them elsewhere: the
# private keys are public). A CA, a server certificate for localhost/127.0.0.1 and a client
# certificate, both signed by the CA, and a second CA that signed nothing here (for "wrong CA").
# Valid for 100 years so the tests never expire.
set -euo pipefail
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days $days \
  -subj "/CN=proxflow test CA" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days $days \
  -subj "/CN=proxflow other test CA" 2>/dev/null
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr \
    -subj "/CN=proxflow test $who" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' > $who.ext
  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $who.pem \
    -days $days -extfile $who.ext 2>/dev/null
  rm -f $who.csr $who.ext
done
rm -f ca.srl ca.key other-ca.key
echo "test certificates written to $(pwd)"
