#!/bin/sh
# Make the `prometheus` and `promtool` binaries available for tests/deploy.
# Does nothing when `prometheus` is already on PATH; otherwise installs the Debian package.
# The package may try to start a system Prometheus service: the tests never use one, they start
# their own instance on a free loopback port with a temporary storage directory.
set -eu

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-prometheus: prometheus is missing and apt-get is not available;" \
         "install Prometheus (prometheus and promtool) by other means" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y --no-install-recommends prometheus
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
