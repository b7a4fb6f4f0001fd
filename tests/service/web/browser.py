"""Headless Chromium (the Debian packages `chromium` and `chromium-driver`, installed by
scripts/install-chromium.sh) driven by Selenium; nothing is downloaded. Plus what the browser tests
share: waiting, reading texts, opening the page with the API key, choosing a model."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Iterator

import httpx

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "chromedriver")
TIMEOUT_S = 20
KEY = "browser-test-key"  # the API key the browser tests serve with


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


def wait(driver, condition, message: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a panel that re-renders while it is read leaves stale elements: read it again at the next poll
    return WebDriverWait(driver, TIMEOUT_S, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def texts(driver, selector: str) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def open_page(driver, server: str) -> None:
    """Load the page; it asks for the API key, says why the models are missing, then takes the key."""
    from selenium.webdriver.common.by import By

    driver.get(server + "/")
    form = driver.find_element(By.ID, "key-form")
    assert form.is_displayed()
    refusal = httpx.get(f"{server}/v1/models").json()["error"]
    assert wait(driver, lambda d: d.find_element(By.ID, "models-error").text, "no models without the key") == (
        f"401 {refusal['type']}: {refusal['message']}")
    driver.find_element(By.ID, "api-key").send_keys(KEY)
    form.submit()
    wait(driver, lambda d: not d.find_element(By.ID, "models-error").is_displayed(), "models with the key")
    assert driver.execute_script("return sessionStorage.getItem('distilserve.apiKey')") == KEY


def choose_model(driver, name: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    wait(driver, lambda d: name in [o.get_attribute("value") for o in
                                    d.find_elements(By.CSS_SELECTOR, "#model-select option")],
         f"model {name} offered")
    Select(driver.find_element(By.ID, "model-select")).select_by_value(name)
