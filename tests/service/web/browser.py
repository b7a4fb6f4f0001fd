"""Headless Chromium (the Debian packages `chromium` and `chromium-driver`, installed by
scripts/install-chromium.sh) driven by Selenium; nothing is downloaded."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")
TIMEOUT_S = 20


def _which(candidates: tuple[str, ...]) -> str | None:
    return next((found for name in candidates if (found := shutil.which(name))), None)


def missing_browser() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    if _which(CHROMIUM_CANDIDATES) is None:
        return "chromium is not installed (run scripts/install-chromium.sh)"
    if _which(DRIVER_CANDIDATES) is None:
        return "chromedriver is not installed (run scripts/install-chromium.sh)"
    return None


@contextlib.contextmanager
def chromium(profile: Path, width: int = 1280, height: int = 1000) -> Iterator:
    """A fresh headless Chromium with its own profile directory; quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _which(CHROMIUM_CANDIDATES)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=_which(DRIVER_CANDIDATES)), options=options)
    try:
        driver.set_page_load_timeout(TIMEOUT_S)
        driver.set_script_timeout(TIMEOUT_S)
        yield driver
    finally:
        driver.quit()
