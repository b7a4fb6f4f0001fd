#!/bin/sh
# Install Debian packages: `sh scripts/apt-install.sh WHAT PACKAGE...` (WHAT names the caller in
# messages). Used by the install-*.sh scripts once they found their programs missing.
set -eu

what=$1
shift

if ! command -v apt-get >/dev/null 2>&1; then
    echo "$what: $* missing and apt-get is not available; install them by other means" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y --no-install-recommends "$@"
