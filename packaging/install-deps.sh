#!/bin/sh
# Installs the Debian packages Depot needs to build, test and run, and only those missing.
# Used by `make demo` and `make test`; safe to run repeatedly. Needs root or sudo for apt-get.
set -eu

PACKAGES="
build-essential
cmake
pkg-config
sqlite3
python3
libsqlite3-dev
libwebsockets-dev
libmbedtls-dev
libcurl4-openssl-dev
libcjson-dev
libserialport-dev
libcunit1-dev
libsystemd-dev
prometheus
nodejs
zbar-tools
chromium
dpkg-dev
lintian
systemd
udev
valgrind
openssl
"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# npm (the label tests' ZPL renderer): Debian's package only when no npm came with nodejs.
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "install-deps: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
