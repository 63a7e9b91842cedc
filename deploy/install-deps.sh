#!/bin/sh
# install-deps.sh - installs the Debian 12 packages dtx builds and tests with.
#
# Installs only what is missing (so a machine that has everything is not
# touched and needs no network); runs `apt-get update` first when something is
# missing. Needs root: uses sudo when not root and sudo exists.
# Usage: deploy/install-deps.sh
set -eu

PACKAGES="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
libcriterion-dev liburing-dev libjemalloc-dev libsecp256k1-dev valgrind
libinih-dev nettle-dev libquickfix-dev g++ python3"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *" installed") ;;
        *) missing="$missing $p" ;;
    esac
done

if [ -z "$missing" ]; then
    echo "install-deps: all packages present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: missing:$missing" >&2
    echo "install-deps: not root and no sudo; install them as root" >&2
    exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086 # one word per package
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
