"""Each chapter page offers its notebook twice: clean (to run) and with its outputs (as read).

Reads the built site (``_build/html``, or ``$SITE_DIR``); skipped when there is none, a
failure with ``REQUIRE_SITE=1`` (``.ci/run``).
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from pathlib import Path

import pytest
from sitetools import book_pages

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
CHAPTERS = [page for page in book_pages() if page.startswith("notebooks/")]


def downloads(page: str) -> dict[str, Path]:
    """The download menu's ``.ipynb`` entries of a built page: text -> file in the site."""
    path = SITE / f"{page}.html"
    if not path.is_file():
        if os.environ.get("REQUIRE_SITE") == "1":
            pytest.fail(f"no built page {path}")
        pytest.skip(f"no built page {path} (jupyter-book build .)")
    text = path.read_text(encoding="utf-8")
    found = {}
    for href, inside in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', text, flags=re.S):
        label = re.search(r'<span class="btn__text-container">([^<]+)</span>', inside)
        if label and href.endswith(".ipynb") and "://" not in href:
            found[label.group(1).strip()] = (path.parent / urllib.parse.unquote(href)).resolve()
    return found


def code_cells(path: Path) -> list[dict]:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def source(cell: dict) -> str:
    text = cell["source"]
    return "".join(text) if isinstance(text, list) else text


@pytest.mark.parametrize("page", CHAPTERS)
def test_a_chapter_offers_its_notebook_clean_and_with_outputs(page):
    found = downloads(page)
    assert set(found) == {".ipynb, to run", ".ipynb, with outputs"}, found
    clean, executed = found[".ipynb, to run"], found[".ipynb, with outputs"]
    assert clean.is_file() and executed.is_file(), found
    # The clean one is the repository's notebook, byte for byte (no outputs).
    assert clean.read_bytes() == (ROOT / f"{page}.ipynb").read_bytes()
    assert not any(cell.get("outputs") for cell in code_cells(clean))
    # The other runs the same code and carries what it printed and drew.
    assert [source(c) for c in code_cells(executed)] == [source(c) for c in code_cells(clean)]
    outputs = [o for cell in code_cells(executed) for o in cell.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs), "no figure in the outputs"
