"""Headless Chromium against a served ``sanet-text-web``: the browser test's helpers, and the README screenshot.

    python scripts/browser.py docs/web.png

serves the shipped model on a free localhost port, clicks the first example (one click: the bundled
cat and "Van Gogh starry night"), waits for the result and saves a screenshot of the whole page.
Needs Debian's ``chromium`` (Playwright's own browser download is not used) and playwright.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

# As root on a machine without a display or a network: no sandbox, no GPU, no calls home.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# True once the page shows a result image other than the one before (the page remembers the last seen).
NEW_RESULT = ("() => { const i = document.querySelector('#result img');"
              " return i !== null && i.complete && i.naturalWidth > 0 && i.src !== window.seenResult }")


def chromium() -> str | None:
    """Debian's Chromium, or None when it is not installed."""
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(args: Sequence[str], folder: Path, seconds: float = 90) -> Iterator[str]:
    """``sanet-text-web ARGS`` on a free port of 127.0.0.1, its files and log in ``folder``; yields its URL.

    Waits at most ``seconds`` for it to answer (RuntimeError with its log otherwise) and stops it on exit.
    """
    port = free_port()
    log = folder / "server.log"
    env = {**os.environ, "GRADIO_TEMP_DIR": str(folder / "gradio"), "GRADIO_ANALYTICS_ENABLED": "False"}
    with log.open("w") as out:
        server = subprocess.Popen([sys.executable, "-m", "sanet_text.frontends.web", "--port", str(port), *args],
                                  env=env, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + seconds
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"sanet-text-web exited with {server.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sanet-text-web did not answer within {seconds:.0f} s:\n{log.read_text()}")
                time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def new_result_src(page: Any) -> str:
    """Wait until the page shows a new result image; its URL (the full-resolution PNG the download gives)."""
    page.wait_for_function(NEW_RESULT)
    return page.evaluate("() => window.seenResult = document.querySelector('#result img').src")


def screenshot(output: Path, args: Sequence[str] = ()) -> None:
    """Serve, click the first example, wait for its result, and save a screenshot of the whole page."""
    from playwright.sync_api import sync_playwright

    executable = chromium()
    if executable is None:
        raise SystemExit("Debian's chromium is not installed: apt-get install chromium chromium-driver")
    with tempfile.TemporaryDirectory() as folder, served(args, Path(folder)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(120_000)  # the shipped model, and the text library's first load, on a CPU
            page.goto(url)
            page.locator("#examples tbody tr").first.click()
            new_result_src(page)
            page.evaluate("() => window.scrollTo(0, 0)")
            page.screenshot(path=str(output), full_page=True)
        finally:
            browser.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="PNG to write")
    parser.add_argument("server_args", nargs="*", help="arguments for sanet-text-web (after --)")
    args = parser.parse_args(argv)
    screenshot(args.output, args.server_args)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
