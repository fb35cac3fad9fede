"""What the site tests share: the book's pages, whether a built site is current, a local server.

One definition of each, so that the tests cannot disagree about them:

* :func:`book_pages` reads ``_toc.yml`` with ``sphinx_external_toc``, the parser Jupyter
  Book itself uses, so every page (sections included) comes back in reading order.
* :func:`site_problem` says why a built site cannot be tested: not built, or older than
  any of the sources that make it (configuration, prose, chapters, and ``course_utils``,
  whose docstrings make the API page).
* :func:`serve` serves a folder on 127.0.0.1 for as long as a ``with`` block runs.
* :func:`start_chromium` starts Debian's headless Chromium under Selenium.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SITE = ROOT / "_build" / "html"
BUILD_COMMAND = "`jupyter-book build . -W --keep-going`"


def book_pages() -> list[str]:
    """Every page of ``_toc.yml`` in reading order, without suffix (``"notebooks/01_timeline"``)."""
    return list(parse_toc_yaml(ROOT / "_toc.yml"))


def site_sources() -> list[Path]:
    """The files a build of the site is made from."""
    sources = [ROOT / "_config.yml", ROOT / "_toc.yml"]
    for folder, pattern in (("book", "*"), ("notebooks", "*.ipynb"), ("course_utils", "*.py")):
        sources += (ROOT / folder).rglob(pattern)
    return [p for p in sources if p.is_file() and "__pycache__" not in p.parts]


def site_problem(site: Path) -> str | None:
    """Why ``site`` cannot be tested (not built, or older than its sources), or ``None``."""
    if not (site / "index.html").is_file():
        return f"no built site in {site}: build it first with {BUILD_COMMAND}"
    if site == DEFAULT_SITE:
        built = (site / "index.html").stat().st_mtime
        newer = sorted(
            str(p.relative_to(ROOT)) for p in site_sources() if p.stat().st_mtime > built
        )
        if newer:
            return (
                f"the site in {site} is older than {newer[:3]}...: rebuild it with {BUILD_COMMAND}"
            )
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 at a free port; yields the base URL (ending in ``/``)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


#: A laptop screen, in CSS pixels.
WINDOW = (1280, 900)


def start_chromium(
    profile: Path,
    window: tuple[int, int] = WINDOW,
    *,
    browser: str | None = None,
    driver: str | None = None,
):
    """Debian's Chromium, headless, driven by Debian's chromedriver; ``None`` if either is
    missing (``apt-get install chromium chromium-driver``) or Selenium is not installed.

    ``browser`` and ``driver`` name other executables (Google Chrome and its chromedriver).
    """
    chromium = browser or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
    )
    driver_path = driver or shutil.which("chromedriver")
    if not chromium or not driver_path:
        return None
    try:
        from selenium import webdriver
    except ImportError:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={window[0]},{window[1]}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(driver_path))
