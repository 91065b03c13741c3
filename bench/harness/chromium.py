"""Debian's Chromium (never a downloaded browser) as the benchmarks drive it through Playwright.

The launch settings and the CSP-proof `wait_for_function` are those of tests/browser, kept here
so that a benchmark does not depend on the test package.
"""

from __future__ import annotations

import datetime
import shutil
import time
from typing import Any, Literal

from playwright.sync_api import Error, Frame, JSHandle, Page

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# Navigations while polling: the expression is asked again in the new document.
RETRY_ERRORS = ("Execution context was destroyed", "Cannot find context")


def poll_timeout_ms(timeout: float | datetime.timedelta | None) -> float:
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds() * 1000
    return 30_000 if timeout is None else timeout


def wait_for_function(
    self: Page | Frame,
    expression: str,
    *,
    arg: Any = None,
    polling: float | Literal["raf"] | None = None,
    timeout: float | datetime.timedelta | None = None,
) -> JSHandle:
    """`wait_for_function` that works under the CSP: Playwright's own evaluates the expression
    with `eval` inside the page, which a policy without 'unsafe-eval' refuses (and reports).
    This asks through the DevTools protocol (`evaluate_handle`, not subject to the page's CSP)
    until the answer is truthy; a Promise is awaited first. Returns the answer's handle."""
    budget = poll_timeout_ms(timeout)
    interval = polling if isinstance(polling, int | float) else 50
    deadline = time.monotonic() + budget / 1000
    while True:
        try:
            handle = self.evaluate_handle(expression, arg)
            if self.evaluate("(value) => Boolean(value)", handle):
                return handle
            handle.dispose()
        except Error as error:
            if not any(part in error.message for part in RETRY_ERRORS):
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"wait_for_function: {expression!r} not truthy within {budget:.0f} ms")
        self.wait_for_timeout(interval)
