#!/bin/sh
# One-shot `certs` service of docker-compose.yml: makes sure the proxy has a certificate.
#
# Writes $CERT_DIR/tls.crt and $CERT_DIR/tls.key (the names nginx.conf reads) unless both are
# already there, so a certificate you put there yourself is never overwritten (see the `tls`
# volume in docker-compose.yml for using a real one). The generated certificate is self-signed
# (browsers warn once) and names the host of PUBLIC_URL, plus localhost and 127.0.0.1.
set -eu

dir="${CERT_DIR:-/certs}"
crt="$dir/tls.crt"
key="$dir/tls.key"

if [ -s "$crt" ] && [ -s "$key" ]; then
  echo "certs: keeping the certificate in $dir"
  exit 0
fi

# Host of PUBLIC_URL: strip the scheme, then any path, then any port (an [IPv6] literal keeps
# its brackets out of the name).
host="${PUBLIC_URL:-https://localhost}"
host="${host#*://}"
host="${host%%/*}"
case "$host" in
  \[*) host="${host#\[}"; host="${host%%\]*}" ;;
  *) host="${host%%:*}" ;;
esac
[ -n "$host" ] || host=localhost

case "$host" in
  *[!0-9.]*) case "$host" in *:*) san="IP:$host" ;; *) san="DNS:$host" ;; esac ;;
  *) san="IP:$host" ;;
esac
[ "$host" = localhost ] || san="$san,DNS:localhost"
san="$san,IP:127.0.0.1"

umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 825 \
  -subj "/CN=$host" -addext "subjectAltName=$san" \
  -keyout "$key.tmp" -out "$crt.tmp"
chmod 644 "$crt.tmp"
mv "$key.tmp" "$key"
mv "$crt.tmp" "$crt"
echo "certs: generated a self-signed certificate for $san in $dir"
