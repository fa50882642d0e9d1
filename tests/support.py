"""Helpers shared by the tests: the one polling helper (wait_until), examples run as
subprocesses exactly as the README starts them, and a headless Chromium from Debian's
packages."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from typing import Union

import gevent
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
_SERVING = re.compile(r"Serving on (http://\S+)")


class Example:
    """A running example program: ``url`` is where it serves."""

    def __init__(self, script: str, timeout: float = 20, args: tuple = ()) -> None:
        path = os.path.join(ROOT, script if "/" in script else os.path.join("examples", script))
        self.proc = subprocess.Popen(
            [sys.executable, path, "--port", "0", *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT, PYTHONUNBUFFERED="1"))
        self.lines: list[str] = []
        self.url = ""
        with gevent.Timeout(timeout, AssertionError(f"{script} did not start")):
            while not (self.url and any("Press enter to terminate app" in s for s in self.lines)):
                line = self.proc.stdout.readline()
                if not line:
                    raise AssertionError(f"{script} exited: {self.proc.stderr.read()}")
                self.lines.append(line)
                match = _SERVING.search(line)
                if match:
                    self.url = match.group(1).replace("localhost", "127.0.0.1")

    def terminate_with_enter(self, timeout: float = 10) -> int:
        """Press enter, as the program asks, and return its exit status."""
        try:
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()


#: seconds a browser test gives a page to load or to show what it should
PAGE_WAIT = 15


def wait_until(condition, within: float = 5.0, step: float = 0.01, *,
               ignoring: Union[type[BaseException], tuple] = ()) -> bool:
    """Whether ``condition()`` becomes true within ``within`` seconds (polled every
    ``step``, letting the hub run in between). The deadline also cuts short a
    ``condition()`` that blocks past it. An exception of a type in ``ignoring`` (such as
    ``OSError`` while a process starts listening) counts as not yet.

    The one polling helper of the tests; a test that must not go on without the condition
    says so: ``assert wait_until(...), "what was not reached"``."""
    with gevent.Timeout(within, False):  # False: the time-out ends the block silently
        while True:
            try:
                if condition():
                    return True
            except ignoring:
                pass
            gevent.sleep(step)
    return False


def chromium_or_skip():
    """A headless Chromium driven by selenium; skips where Debian's chromium is missing."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("no Chromium here: install Debian's chromium and chromium-driver "
                    "(bash .ci/setup does, as root)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.profile_dir = profile
    return driver


#: what chromedriver answers, besides "stale element", when asked about a document that a
#: navigation is replacing (seen in CI: an element of the page being left, checked while
#: the next one loads, gave "Node with given id does not belong to the document")
NAVIGATING = ("does not belong to the document", "Execution context was destroyed",
              "Cannot find context with specified id")


def browser_wait(driver, predicate, what: str = "", within: float = PAGE_WAIT):
    """Wait until ``predicate(driver)`` is true. While the browser navigates, what was
    found on the page it leaves goes away: that is "not yet", not an error."""
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        WebDriverException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    def attempt(d):
        try:
            return predicate(d)
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as e:
            if any(sign in (e.msg or "") for sign in NAVIGATING):
                return False
            raise

    return WebDriverWait(driver, within, poll_frequency=0.05).until(attempt, message=what)


def leave_page(driver) -> None:
    """Mark the document shown now, so that :func:`on_new_page` can tell it is gone."""
    driver.execute_script("window.leftBehind = true")


def on_new_page(driver) -> bool:
    """Whether the document marked by :func:`leave_page` has been replaced and the new
    one has loaded."""
    return driver.execute_script(
        "return window.leftBehind === undefined && document.readyState === 'complete'")


def quit_chromium(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)
