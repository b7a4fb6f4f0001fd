#!/bin/sh
# Make headless Chromium and its WebDriver available for the browser test of the web page
# (tests/service/web/test_browser.py). Does nothing when /usr/bin/chromium and
# /usr/bin/chromedriver are there; otherwise installs the Debian packages `chromium` and
# `chromium-driver`. No browser is ever downloaded by the test itself.
set -eu

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: chromium is missing and apt-get is not available;" \
         "install chromium and its chromedriver by other means (the browser test skips without them)" >&2
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y --no-install-recommends chromium chromium-driver
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
