#!/bin/sh
# Make a container engine available for the image test (tests/deploy/test_container.py): podman,
# runc (docker/podman/containers.conf selects it) and mmdebstrap (the base image where the
# registry's cannot be pulled). Does nothing when they are installed, or when a docker daemon
# answers. Without apt-get it only says so: the test then skips, stating why.
set -eu

if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 \
        && command -v mmdebstrap >/dev/null 2>&1; then
    exit 0
fi
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-podman: no podman or docker engine, and no apt-get to install podman;" \
         "the container test will be skipped" >&2
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" install-podman podman runc mmdebstrap
command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1
