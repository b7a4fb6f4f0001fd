#!/bin/sh
# Make the `prometheus` and `promtool` binaries available for tests/deploy.
# Does nothing when `prometheus` is already on PATH; otherwise installs the Debian package.
# The package may try to start a system Prometheus service: the tests never use one, they start
# their own instance on a free loopback port with a temporary storage directory.
set -eu

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" install-prometheus prometheus
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1
