"""No broken internal link in the built site.

Sphinx already fails the build (``-W`` with ``nitpicky: true`` in ``_config.yml``) on a
reference it cannot resolve: a ``{cite}``, a ``{ref}``, a Python object in the API
reference. This test checks what Sphinx does not: in every HTML page of the built site
(``_build/html``, or ``$SITE_DIR``), each relative ``href`` and ``src`` must point to a
file of the site, and each ``#fragment`` to an ``id`` on the page it points to. That
covers Markdown links between pages, raw HTML and the theme's own links.

External links (``http://``, ``https://``) are not checked: CI has no network. The
repository's own URL is checked elsewhere (tests/test_book.py, tests/test_site.py).

Skips, saying why, when no site has been built or when ``_build/html`` is older than
the book's sources; ``REQUIRE_SITE=1`` (set by ``.ci/run`` after its build) turns that
skip into a failure.
"""

from __future__ import annotations

import os
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sitetools import site_problem

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
EXTERNAL = ("http:", "https:", "mailto:", "javascript:", "data:", "//")
LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "iframe": "src"}


class _Page(HTMLParser):
    """The ids a page defines and the links it makes."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name"):
            if attrs.get(name):
                self.ids.add(attrs[name])
        link = attrs.get(LINK_ATTRIBUTES.get(tag, ""))
        if link:
            self.links.append(link)


def parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


@pytest.fixture(scope="module")
def pages() -> dict[Path, _Page]:
    if reason := site_problem(SITE):
        if os.environ.get("REQUIRE_SITE") == "1":
            pytest.fail(f"{reason} (REQUIRE_SITE=1)")
        pytest.skip(reason)
    return {
        path: parse(path)
        for path in sorted(SITE.rglob("*.html"))
        if "_static" not in path.relative_to(SITE).parts
    }


def broken_links(pages: dict[Path, _Page]) -> list[str]:
    broken = []
    for path, page in pages.items():
        for link in page.links:
            if link.startswith(EXTERNAL):
                continue
            parts = urllib.parse.urlsplit(link)
            target = path if not parts.path else (path.parent / urllib.parse.unquote(parts.path))
            target = target.resolve()
            where = f"{path.relative_to(SITE)}: {link}"
            if SITE.resolve() not in (target, *target.parents):
                broken.append(f"{where} (points outside the site)")
            elif target.is_dir():
                if not (target / "index.html").is_file():
                    broken.append(f"{where} (a folder without index.html)")
            elif not target.is_file():
                broken.append(f"{where} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if urllib.parse.unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no id {parts.fragment!r} on that page)")
    return broken


def test_the_link_check_can_fail(tmp_path):
    (tmp_path / "a.html").write_text(
        '<a href="b.html#there">b</a> <a href="missing.html">x</a> <img src="i.png">'
        ' <a href="#here">self</a> <a href="https://example.org/">out</a>',
        encoding="utf-8",
    )
    (tmp_path / "b.html").write_text('<h1 id="elsewhere">b</h1>', encoding="utf-8")
    global SITE
    saved, SITE = SITE, tmp_path
    try:
        found = broken_links({p: parse(p) for p in sorted(tmp_path.glob("*.html"))})
    finally:
        SITE = saved
    assert found == [
        "a.html: b.html#there (no id 'there' on that page)",
        "a.html: missing.html (no such file)",
        "a.html: i.png (no such file)",
        "a.html: #here (no id 'here' on that page)",
    ]


def test_every_internal_link_resolves(pages):
    assert pages, f"no HTML pages in {SITE}"
    broken = broken_links(pages)
    assert not broken, f"{len(broken)} broken internal links:\n  " + "\n  ".join(broken)
