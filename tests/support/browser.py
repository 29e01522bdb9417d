"""A headless Chromium for the tests: Debian's `chromium` driven through Debian's `chromium-driver` by Selenium
(nothing downloads a browser: .ci/run installs both packages with apt-get when they are missing). A missing browser
fails the test that needs it, never skips it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
PHONE_WINDOW = (412, 915)  # a common phone's CSS pixels: the page must work there
ARTIFACTS = Path(os.environ.get("ACUITY_SYNC_TEST_ARTIFACTS", "test-artifacts"))


def chromium(window: tuple[int, int] = PHONE_WINDOW) -> webdriver.Chrome:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not binary.exists():
            raise AssertionError(f"{binary} is missing: apt-get install chromium chromium-driver (.ci/run does)")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={window[0]},{window[1]}",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    service = Service(executable_path=str(CHROMEDRIVER))
    return webdriver.Chrome(options=options, service=service)


def chromium_available() -> bool:
    return CHROMIUM.exists() and CHROMEDRIVER.exists() and shutil.which(str(CHROMEDRIVER)) is not None
