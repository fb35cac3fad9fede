"""Two builds of the site, pixel for pixel: does a change to the site's CSS or fonts show?

    python scripts/compare_site_screenshots.py BEFORE_SITE AFTER_SITE [--out folder]

Opens the same pages of both sites in Debian's headless Chromium (light and dark, at 1280
and 390 pixels) and in the states a reader can put them in (the sidebar drawer open on a
phone, the search dialog, the header's download menu, a solution and a hidden code cell
opened, a tooltip, keyboard focus on a header button), takes a screenshot of each and
counts the pixels that differ. A trim that only removes what no page uses (unused CSS
rules, unused icon glyphs: ``book/_ext/page_weight.py``) must change none. Writes the
differing pairs to ``--out`` to look at. Exit status 1 if any screenshot differs.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sitetools import serve, start_chromium  # noqa: E402

from course_utils._files import atomic_write  # noqa: E402

PAGES = [
    "book/index",
    "book/how_to_use",
    "notebooks/05_transposed_convolution",
    "notebooks/08_deconvnet",
    "book/solutions",
    "book/api",
    "book/references",
    "genindex",
    "py-modindex",
    "_modules/course_utils/occlusion",
    "search",
]

#: A state: a script run after loading (it returns nothing), the window width.
STATES = {
    "page": ("", 1280),
    "phone": ("", 390),
    "phone-drawer": ("document.querySelector('.primary-toggle')?.click();", 390),
    "search-dialog": (
        "document.querySelector('.search-button__button, button.search-button')?.click();",
        1280,
    ),
    "download-menu": (
        "document.querySelector('.dropdown-download-buttons button')?.click();",
        1280,
    ),
    "opened": (
        "document.querySelectorAll('details').forEach(d => d.open = true);"
        "document.querySelectorAll('.toggle-button').forEach(b => b.click());",
        1280,
    ),
    "tooltip-and-focus": (
        "const b = document.querySelector('.article-header-buttons .btn');"
        "if (b) { b.focus(); b.dispatchEvent(new Event('mouseenter')); }",
        1280,
    ),
}

WAIT = """
const done = arguments[arguments.length - 1];
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all([math, document.fonts.ready]).then(() => setTimeout(() => done("ok"), 400));
"""


def shoot(driver, url: str, theme: str, script: str, width: int) -> bytes:
    driver.set_window_size(width, 900)
    driver.get(url)
    driver.execute_script(
        "localStorage.setItem('mode', arguments[0]); localStorage.setItem('theme', arguments[0]);",
        theme,
    )
    driver.refresh()
    # A text field's blinking caret would make two shots of the same page differ.
    driver.execute_script(
        "const s = document.createElement('style');"
        "s.textContent = '* { caret-color: transparent !important; }';"
        "document.head.append(s);"
    )
    driver.execute_async_script(WAIT)
    if script:
        driver.execute_script(script)
        driver.execute_async_script(WAIT)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 150, 12000))
    driver.execute_async_script(WAIT)
    return driver.get_screenshot_as_png()


def differing_pixels(a: bytes, b: bytes) -> int:
    import numpy as np
    from PIL import Image

    x = np.asarray(Image.open(io.BytesIO(a)).convert("RGB"))
    y = np.asarray(Image.open(io.BytesIO(b)).convert("RGB"))
    if x.shape != y.shape:
        return max(x.size, y.size)
    return int((x != y).any(axis=2).sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "screenshot-diff")
    parser.add_argument("--pages", nargs="*", default=PAGES)
    parser.add_argument("--states", nargs="*", default=list(STATES), choices=list(STATES))
    args = parser.parse_args()
    differ = 0
    with serve(args.before) as base_a, serve(args.after) as base_b:
        driver = start_chromium(Path(tempfile.mkdtemp()))
        if driver is None:
            sys.exit("needs Debian's chromium and chromium-driver")
        try:
            for page in args.pages:
                for state in args.states:
                    script, width = STATES[state]
                    for theme in ("light", "dark"):
                        shots = [
                            shoot(
                                driver,
                                urllib.parse.urljoin(b, f"{page}.html"),
                                theme,
                                script,
                                width,
                            )
                            for b in (base_a, base_b)
                        ]
                        n = differing_pixels(*shots)
                        if n:
                            differ += 1
                            args.out.mkdir(parents=True, exist_ok=True)
                            name = f"{page.replace('/', '__')}-{state}-{theme}"
                            for label, png in zip(("before", "after"), shots, strict=True):
                                with atomic_write(args.out / f"{name}-{label}.png", "wb") as f:
                                    f.write(png)
                        print(f"{page:40s} {state:18s} {theme:5s} {n:8d} pixels differ", flush=True)
        finally:
            driver.quit()
    print(f"{differ} screenshots differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
