"""A real headless Chromium driven by selenium, for the web chat's tests.

Debian's `chromium` and `chromium-driver` (installed by .ci/run) are named explicitly, so
selenium never looks for or downloads a driver of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def require_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    reason = f"needs {CHROMIUM} and {CHROMEDRIVER} (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(reason + ": .ci/run installs them, so CI must have them")
    pytest.skip(reason)


def start_chromium(workdir: Path) -> webdriver.Chrome:
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--disable-gpu",
        "--window-size=1280,860",
        f"--user-data-dir={workdir / 'profile'}",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium refuses to run as root otherwise
    service = Service(str(CHROMEDRIVER), log_output=str(workdir / "chromedriver.log"))
    return webdriver.Chrome(options=options, service=service)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    require_chromium()
    workdir = tmp_path / "chromium"
    workdir.mkdir()
    driver = start_chromium(workdir)
    try:
        yield driver
    finally:
        driver.quit()
