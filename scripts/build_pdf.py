"""The whole book as one PDF: the single-page HTML build, printed by headless Chromium.

    jupyter-book build . --builder singlehtml     # reuses the execution cache: nothing re-runs
    python scripts/build_pdf.py [--site _build/singlehtml] [--out _build/pdf/inside-ilsvrc.pdf]

Serves the single-page build on localhost, opens it in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, or Google Chrome with ``--browser`` and ``--driver``),
waits for every image and for MathJax to typeset every formula, opens the folded parts
(hidden code cells: the PDF shows the code a chapter runs; the solutions' dropdowns, which
sit on the solutions page at the back of the book), and prints it with Chromium's
``Page.printToPDF``: A4, page numbers at the foot, a bookmark per heading.
``book/_static/print.css`` lays the page out for print (no sidebars, buttons or toggles).
The PDF is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from course_utils._files import atomic_write  # noqa: E402
from sitetools import serve, start_chromium  # noqa: E402

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Runs in the page before printing; calls back with a list of problems (empty when ready).
PREPARE = """
const done = arguments[arguments.length - 1];
document.documentElement.dataset.theme = "light";   // print in the light theme
document.documentElement.dataset.mode = "light";
document.querySelectorAll("details").forEach(d => { d.open = true; });
document.querySelectorAll("img").forEach(img => { img.loading = "eager"; });
const images = [...document.images].map(img => img.decode().catch(() => null));
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all([math, ...images]).then(() => {
  const problems = [...document.images].filter(img => !img.naturalWidth)
      .map(img => "image not loaded: " + img.getAttribute("src"));
  document.querySelectorAll("span.math, div.math").forEach(el => {
    if (!el.querySelector("mjx-container")) problems.push("formula not typeset: " + el.textContent);
  });
  done(problems);
}, error => done(["MathJax failed: " + error]));
"""

FOOTER = (
    '<div style="font-size: 8pt; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span></div>'
)


def find_browser(name: str | None) -> str:
    """The browser executable: ``name`` (a path or a command), or the first of BROWSERS found."""
    for candidate in [name] if name else BROWSERS:
        path = shutil.which(candidate)
        if path:
            return path
    raise SystemExit(
        f"no browser found ({name or ', '.join(BROWSERS)}): install Debian's chromium and "
        "chromium-driver (apt-get install chromium chromium-driver), or pass --browser and --driver"
    )


def find_driver(name: str | None) -> str:
    """chromedriver: ``name``, or on PATH, or in $CHROMEWEBDRIVER (GitHub's Ubuntu runners)."""
    candidates = [name] if name else ["chromedriver"]
    if not name and os.environ.get("CHROMEWEBDRIVER"):
        candidates.append(str(Path(os.environ["CHROMEWEBDRIVER"]) / "chromedriver"))
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    raise SystemExit(
        f"no chromedriver found ({' or '.join(candidates)}): install Debian's chromium-driver, "
        "or pass --driver (its version must match the browser's)"
    )


def print_book(site: Path, browser: str, driver_path: str) -> bytes:
    """The PDF of the single-page build in ``site``, as bytes."""
    page = site / "index.html"
    if 'id="document-' not in (page.read_text(encoding="utf-8") if page.is_file() else ""):
        raise SystemExit(
            f"no single-page build in {site}: build it first with "
            "`jupyter-book build . --builder singlehtml`"
        )
    with tempfile.TemporaryDirectory() as profile, serve(site) as base:
        driver = start_chromium(Path(profile), browser=browser, driver=driver_path)
        if driver is None:
            raise SystemExit("Selenium is not installed: pip install -r requirements.txt")
        try:
            driver.set_script_timeout(300)
            driver.get(base)
            problems = driver.execute_async_script(PREPARE)
            if problems:
                raise SystemExit("the page is not ready to print:\n  " + "\n  ".join(problems))
            pdf = driver.execute_cdp_cmd(
                "Page.printToPDF",
                {
                    "paperWidth": 8.27,  # A4, in inches
                    "paperHeight": 11.69,
                    "marginTop": 0.6,
                    "marginBottom": 0.6,
                    "marginLeft": 0.6,
                    "marginRight": 0.6,
                    "scale": 0.8,  # body text at 9.6 pt; 88-character code lines fit
                    "printBackground": True,
                    "displayHeaderFooter": True,
                    "headerTemplate": "<span></span>",
                    "footerTemplate": FOOTER,
                    "generateDocumentOutline": True,
                },
            )
        finally:
            driver.quit()
    return base64.b64decode(pdf["data"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "singlehtml")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "inside-ilsvrc.pdf")
    parser.add_argument("--browser", help="Chromium or Chrome (a path or a command name)")
    parser.add_argument("--driver", help="the chromedriver that matches --browser")
    args = parser.parse_args(argv)

    browser, driver = find_browser(args.browser), find_driver(args.driver)
    start = time.perf_counter()
    pdf = print_book(args.site.resolve(), browser, driver)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out, "wb") as f:
        f.write(pdf)
    seconds = time.perf_counter() - start
    print(f"{args.out}: {len(pdf) / 1e6:.1f} MB, printed in {seconds:.0f} s")


if __name__ == "__main__":
    main()
