#!/bin/sh
# Make headless Chromium and its WebDriver available for the browser test of the web page
# (tests/service/web/test_browser.py). Does nothing when /usr/bin/chromium and
# /usr/bin/chromedriver are there; otherwise installs the Debian packages `chromium` and
# `chromium-driver`. The test never downloads a browser; without these it is skipped.
set -eu

if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" install-chromium chromium chromium-driver
[ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]
