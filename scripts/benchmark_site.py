"""Page weight and load time of the built site, page by page, in headless Chromium.

    python scripts/benchmark_site.py [--site _build/html] [--pages notebooks/05_transposed_convolution ...]

Serves the built site (``jupyter-book build .``) on localhost and opens each page of
``_toc.yml`` in Debian's Chromium (``apt-get install chromium chromium-driver``) with the
browser cache off, so that every page is counted whole, as a first visit would load it.
For each page it adds up what the browser fetched (``performance`` resource timing,
decoded bytes: MathJax's fonts and components, loaded on demand, included) split into
the figures (``_images/``) and everything else, and the gzip size of the latter (GitHub
Pages compresses HTML, CSS and JavaScript). Load time: until the page's ``load`` event
and MathJax's typesetting are both done, with the network throttled to 10 Mbit/s and
40 ms of latency (a broadband line), best of two loads.

The budget (issue 25): a chapter page without its figures under 1.5 MB (decoded bytes).
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sitetools import book_pages, serve, start_chromium  # noqa: E402

BUDGET_BYTES = 1.5e6
COMPRESSED = (".html", ".css", ".js", ".json", ".svg", ".txt")

MEASURE = """
const done = arguments[arguments.length - 1];
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
const loaded = document.readyState === "complete" ? null :
    new Promise(resolve => window.addEventListener("load", resolve));
Promise.all([math, loaded]).then(() => setTimeout(() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource").map(r => ({
      name: r.name, bytes: r.decodedBodySize}));
  resources.push({name: nav.name, bytes: nav.decodedBodySize});
  done({resources, ready: performance.now()});
}, 200), error => done({error: String(error)}));
"""


def gzip_size(path: Path) -> int:
    data = path.read_bytes()
    return len(gzip.compress(data, 6)) if path.suffix in COMPRESSED else len(data)


def measure(driver, base: str, site: Path, page: str) -> dict:
    url = urllib.parse.urljoin(base, f"{page}.html")
    best = None
    for _ in range(2):
        driver.get(url)
        result = driver.execute_async_script(MEASURE)
        if "error" in result:
            raise RuntimeError(f"{page}: {result['error']}")
        best = result if best is None or result["ready"] < best["ready"] else best
    figures = other = other_gzip = requests = 0
    for resource in best["resources"]:
        path = urllib.parse.urlsplit(resource["name"]).path
        if not resource["name"].startswith(base):
            continue
        requests += 1
        if "/_images/" in path:
            figures += resource["bytes"]
        else:
            other += resource["bytes"]
            local = site / urllib.parse.unquote(path.lstrip("/"))
            other_gzip += gzip_size(local) if local.is_file() else resource["bytes"]
    return {
        "page": page,
        "requests": requests,
        "other": other,
        "gzip": other_gzip,
        "figures": figures,
        "seconds": best["ready"] / 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--pages", nargs="+", default=None)
    args = parser.parse_args()
    pages = args.pages or book_pages()
    with tempfile.TemporaryDirectory() as profile, serve(args.site) as base:
        driver = start_chromium(Path(profile))
        if driver is None:
            sys.exit("no Chromium here: apt-get install chromium chromium-driver")
        try:
            driver.execute_cdp_cmd("Network.enable", {})
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
            driver.execute_cdp_cmd(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 40,
                    "downloadThroughput": 10e6 / 8,
                    "uploadThroughput": 10e6 / 8,
                },
            )
            rows = [measure(driver, base, args.site, page) for page in pages]
        finally:
            driver.quit()
    print(f"{'page':38} {'req':>4} {'KB no fig':>9} {'KB gzip':>8} {'KB figs':>8} {'load s':>7}")
    for r in rows:
        print(
            f"{r['page']:38} {r['requests']:4d} {r['other'] / 1e3:9.0f} {r['gzip'] / 1e3:8.0f} "
            f"{r['figures'] / 1e3:8.0f} {r['seconds']:7.2f}"
        )
    chapters = [r for r in rows if r["page"].startswith("notebooks/")]
    if chapters:
        heaviest = max(chapters, key=lambda r: r["other"])
        print(
            f"chapters: without figures {statistics.mean(r['other'] for r in chapters) / 1e3:.0f} KB "
            f"on average, at most {heaviest['other'] / 1e3:.0f} KB ({heaviest['page']}; budget "
            f"{BUDGET_BYTES / 1e3:.0f} KB); gzip {statistics.mean(r['gzip'] for r in chapters) / 1e3:.0f} KB; "
            f"figures {sum(r['figures'] for r in chapters) / 1e6:.2f} MB in all; load "
            f"{statistics.mean(r['seconds'] for r in chapters):.2f} s on average"
        )
    on_disk = sum(p.stat().st_size for p in args.site.rglob("*") if p.is_file())
    mathjax = args.site / "_static" / "mathjax"
    mathjax_size = sum(p.stat().st_size for p in mathjax.rglob("*") if p.is_file())
    print(f"site on disk: {on_disk / 1e6:.1f} MB, of which MathJax {mathjax_size / 1e6:.1f} MB")
    print("network throttled to 10 Mbit/s, 40 ms latency; browser cache off; best of 2 loads")


if __name__ == "__main__":
    main()
