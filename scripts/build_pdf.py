"""The whole book as one PDF: the single-page HTML build, printed by headless Chromium.

    jupyter-book build . --builder singlehtml     # reuses the execution cache: nothing re-runs
    python scripts/build_pdf.py [--site _build/singlehtml] [--out _build/pdf/inside-ilsvrc.pdf]

Serves the single-page build on localhost, opens it in headless Chromium (Debian's
``chromium`` and ``chromium-driver``, or Google Chrome with ``--browser`` and ``--driver``),
waits for every image and for MathJax to typeset every formula, opens every fold (the
solutions' dropdowns, which sit on the solutions page at the back of the book; any hidden
code cell), adds a cover, and prints it with Chromium's ``Page.printToPDF``: A4, page
numbers at the foot, a bookmark per heading. ``book/_static/print.css`` lays the page out
for print: no sidebars, buttons or toggles, a new page for each chapter, code wrapped at
the margin, and without the Colab setup cell (the same in every chapter, run only on
Colab). The PDF is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import io
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import yaml  # noqa: E402
from pypdf import PdfWriter  # noqa: E402
from pypdf.generic import NameObject, TextStringObject  # noqa: E402
from sitetools import serve, start_chromium  # noqa: E402

from course_utils._files import atomic_write  # noqa: E402
from scripts.sync_repository_url import pages_url  # noqa: E402

DEFAULT_SITE = ROOT / "_build" / "singlehtml"
DEFAULT_OUT = ROOT / "_build" / "pdf" / "inside-ilsvrc.pdf"
MARGIN_INCHES = 0.6  # on every side of an A4 page (8.27 x 11.69 inches)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Runs in the page before printing, with the cover's lines as arguments; calls back with
#: the text of every heading and a list of problems (empty when the page is ready).
PREPARE = """
const [author, address, printed, done] = arguments;
document.documentElement.dataset.theme = "light";   // print in the light theme
document.documentElement.dataset.mode = "light";
document.querySelectorAll("details").forEach(d => { d.open = true; });
document.querySelectorAll("img").forEach(img => { img.loading = "eager"; });
// The cover (print.css): the title, the book's one-line summary, who wrote it, where it lives.
const cover = document.getElementById("jb-print-docs-body");
cover.append(document.querySelector(".bd-article > section > p"));
for (const line of [author, "Read it online, and run its chapters:", address, printed]) {
  cover.appendChild(document.createElement("p")).textContent = line;
}
const images = [...document.images].map(img => img.decode().catch(() => null));
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all([math, document.fonts.ready, ...images]).then(() => {
  const problems = [...document.images].filter(img => !img.naturalWidth)
      .map(img => "image not loaded: " + img.getAttribute("src"));
  document.querySelectorAll("span.math, div.math").forEach(el => {
    if (!el.querySelector("mjx-container")) problems.push("formula not typeset: " + el.textContent);
  });
  const headings = [...document.querySelectorAll(".bd-article :is(h1, h2, h3, h4, h5, h6)")]
      .map(h => [...h.childNodes].filter(n => !n.classList?.contains("headerlink"))
                                 .map(n => n.textContent).join("").trim());
  done({headings, problems});
}, error => done({headings: [], problems: ["MathJax failed: " + error]}));
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


def print_book(site: Path, browser: str, driver_path: str, cover: list[str]) -> bytes:
    """The PDF of the single-page build in ``site``, as bytes; ``cover``: the cover's lines."""
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
            ready = driver.execute_async_script(PREPARE, *cover)
            if ready["problems"]:
                problems = "\n  ".join(ready["problems"])
                raise SystemExit(f"the page is not ready to print:\n  {problems}")
            pdf = driver.execute_cdp_cmd(
                "Page.printToPDF",
                {
                    "paperWidth": 8.27,  # A4, in inches
                    "paperHeight": 11.69,
                    "marginTop": MARGIN_INCHES,
                    "marginBottom": MARGIN_INCHES,
                    "marginLeft": MARGIN_INCHES,
                    "marginRight": MARGIN_INCHES,
                    "scale": 0.8,  # body text at 9.6 pt; 88-character code lines fit
                    "printBackground": True,
                    "displayHeaderFooter": True,
                    "headerTemplate": "<span></span>",
                    "footerTemplate": FOOTER,
                    "generateTaggedPDF": True,
                    "generateDocumentOutline": True,  # a bookmark per heading
                },
            )
        finally:
            driver.quit()
    return restore_bookmark_titles(base64.b64decode(pdf["data"]), ready["headings"])


def restore_bookmark_titles(pdf: bytes, headings: list[str]) -> bytes:
    """Give each bookmark the text of its heading.

    Chromium builds the bookmarks from the headings, but drops the space where a heading
    wraps ("localisationand detection") and may repeat a heading ("Run itRun it"). Each
    bookmark gets back the heading it starts with, compared without white space.
    """
    letters = {re.sub(r"\s+", "", h): h for h in headings}
    longest_first = sorted(letters, key=len, reverse=True)
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)  # Chromium's PDF + the new titles
    outline = writer.root_object.get("/Outlines")
    pending = [outline.get_object().get("/First")] if outline else []
    while pending:
        item = pending.pop()
        if item is None:
            continue
        item = item.get_object()
        title = re.sub(r"\s+", "", item["/Title"])
        key = (
            title
            if title in letters
            else next((k for k in longest_first if k and title.startswith(k)), None)
        )
        if key is not None:
            item[NameObject("/Title")] = TextStringObject(letters[key])
        pending += [item.get("/First"), item.get("/Next")]
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=DEFAULT_SITE, help="the singlehtml build")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the PDF to write")
    parser.add_argument("--browser", help="Chromium or Chrome (a path or a command name)")
    parser.add_argument("--driver", help="the chromedriver that matches --browser")
    args = parser.parse_args(argv)

    browser, driver = find_browser(args.browser), find_driver(args.driver)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cover = [
        config["author"],
        pages_url(),
        f"Printed on {datetime.date.today():%Y-%m-%d} from the site's single-page build.",
    ]
    start = time.perf_counter()
    pdf = print_book(args.site.resolve(), browser, driver, cover)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(args.out, "wb") as f:
        f.write(pdf)
    seconds = time.perf_counter() - start
    print(f"{args.out}: {len(pdf) / 1e6:.1f} MB, printed in {seconds:.0f} s")


if __name__ == "__main__":
    main()
