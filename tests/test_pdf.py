"""The whole book as one PDF (``scripts/build_pdf.py``), read back with pypdf.

Checks that every page of ``_toc.yml`` is in it (by its title), that every formula was
typeset (no raw TeX delimiters left), that every numbered chapter has figures, and that
no line of code was cut off at the right margin (each appears whole in the PDF's text).

Skips, saying why, when no PDF was built or when it is older than the book's sources;
``REQUIRE_PDF=1`` turns that skip into a failure. Each check is also run on a small PDF
made here by hand, on which it must fail.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import re
import unicodedata
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sitetools import ROOT, book_pages, site_sources

spec = importlib.util.spec_from_file_location("build_pdf", ROOT / "scripts" / "build_pdf.py")
build_pdf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_pdf)

PDF = Path(os.environ.get("PDF_PATH", build_pdf.DEFAULT_OUT))
BUILD = "`jupyter-book build . --builder singlehtml && python scripts/build_pdf.py`"


# ---------------------------------------------------------------------------
# What the PDF says, and where.


def normalized(text: str) -> str:
    """Text without white space, ligatures (NFKC: "ﬁ" -> "fi"), curly quotes or long dashes.

    Line breaks fall anywhere in a PDF's text, and Sphinx's smart quotes turn the sources'
    ' into ’, so titles are compared in this form.
    """
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans("‘’“”–—", "''\"\"--"))
    return re.sub(r"\s+", "", text)


def page_title(page: str) -> str:
    """The title of a page of ``_toc.yml``: its first ``# `` heading, without Markdown."""
    notebook = ROOT / f"{page}.ipynb"
    if notebook.is_file():
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        source = "".join(cells[0]["source"])
    else:
        source = (ROOT / f"{page}.md").read_text(encoding="utf-8")
        if source.startswith("---\n"):  # front matter
            source = source.split("\n---\n", 1)[1]
    heading = next(line for line in source.splitlines() if line.startswith("# "))
    return re.sub(r"[`*]", "", heading[2:]).strip()


def missing_titles(text: str, titles: list[str]) -> list[str]:
    found = normalized(text)
    return [title for title in titles if normalized(title) not in found]


RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")


def raw_tex(text: str) -> list[str]:
    """Each raw TeX delimiter (``\\(``, ``\\[``, ``$$``) in ``text``, with its context."""
    return [text[max(m.start() - 30, 0) : m.end() + 30] for m in RAW_TEX.finditer(text)]


def chapters_without_figures(reader: PdfReader) -> list[str]:
    """The numbered chapters ("3. AlexNet ...") with no image on their pages.

    The chapters are the PDF's bookmarks one level under the book's title (the single-page
    build nests every page of the book under its landing page); a chapter's pages run to
    the next bookmark of that level.
    """
    pages = [
        (reader.get_destination_page_number(item), item.title) for item in _second_level(reader)
    ]
    chapters = [(page, title) for page, title in pages if re.match(r"\d+\. ", title)]
    if not chapters:
        return ["no numbered chapter among the bookmarks"]
    missing = []
    for page, title in chapters:
        end = next((p for p, _ in pages if p > page), len(reader.pages))
        if not any(reader.pages[p].images for p in range(page, max(end, page + 1))):
            missing.append(title)
    return missing


def _second_level(reader: PdfReader) -> list:
    """The bookmarks under the first top-level bookmark (or the top level, if it has none)."""
    outline = reader.outline
    nested = [item for item in outline if isinstance(item, list)]
    return [item for item in (nested[0] if nested else outline) if not isinstance(item, list)]


def fenced_code(markdown: str) -> list[str]:
    """The fenced code blocks of a Markdown page (```python ... ```), not the directives
    written as fences (```{bibliography} ... ```)."""
    blocks, block, directive = [], None, False
    for line in markdown.splitlines():
        if line.startswith("```") and block is None:
            block, directive = [], line[3:].startswith("{")
        elif line.startswith("```"):
            if not directive:
                blocks.append("\n".join(block))
            block = None
        elif block is not None:
            block.append(line)
    return blocks


def code_lines(pages: list[str]) -> list[str]:
    """Every non-blank line of code of the book's pages: the chapters' code cells (but the
    Colab setup cell, which the PDF leaves out) and the pages' fenced code blocks."""
    lines = []
    for page in pages:
        notebook = ROOT / f"{page}.ipynb"
        if notebook.is_file():
            cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
            sources = [
                "".join(cell["source"])
                for cell in cells
                if cell["cell_type"] == "code"
                and "colab-setup" not in cell["metadata"].get("tags", [])
            ]
        else:
            sources = fenced_code((ROOT / f"{page}.md").read_text(encoding="utf-8"))
        lines += [line for source in sources for line in source.splitlines() if line.strip()]
    return lines


def cut_lines(text: str, lines: list[str]) -> list[str]:
    """The ``lines`` of code that do not appear whole in ``text``.

    A line too long for the page is cut at the right edge of its box: Chromium does not
    print the glyphs outside it, so the line's end is missing from the PDF's text. (Where
    the glyphs are is no help: none of them lies past the margin.)
    """
    found = normalized(text)
    return [line for line in lines if normalized(line) not in found]


# ---------------------------------------------------------------------------
# The book's PDF.


@pytest.fixture(scope="module")
def book() -> tuple[PdfReader, str]:
    problem = None
    if not PDF.is_file():
        problem = f"no PDF at {PDF}: build it with {BUILD}"
    elif PDF == build_pdf.DEFAULT_OUT and (
        newer := [p for p in site_sources() if p.stat().st_mtime > PDF.stat().st_mtime]
    ):
        problem = f"the PDF is older than {newer[0].relative_to(ROOT)}: rebuild it with {BUILD}"
    if problem:
        if os.environ.get("REQUIRE_PDF") == "1":
            pytest.fail(f"{problem} (REQUIRE_PDF=1)")
        pytest.skip(problem)
    reader = PdfReader(PDF)
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def test_every_page_of_the_book_is_in_the_pdf(book):
    titles = [page_title(page) for page in book_pages()]
    assert len(titles) > 20
    assert missing_titles(book[1], titles) == []


def test_every_formula_is_typeset(book):
    assert raw_tex(book[1]) == []


def test_every_chapter_has_its_figures(book):
    assert chapters_without_figures(book[0]) == []


def test_no_line_of_code_is_cut_off_at_the_right_margin(book):
    lines = code_lines(book_pages())
    assert len(lines) > 1000
    assert cut_lines(book[1], lines) == []


# ---------------------------------------------------------------------------
# Each check fails on a PDF that has the problem, made here without a browser.


def hand_made_pdf(lines: list[str], chapter: str | None = None) -> PdfReader:
    """An A4 page showing ``lines`` in 10 pt Courier, one under another; with a bookmark
    ``chapter`` to the page if given."""
    writer = PdfWriter()
    page = writer.add_blank_page(595.92, 841.92)
    courier = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Courier"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(courier)})}
    )
    escaped = [line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") for line in lines]
    shown = " ".join(
        f"BT /F1 10 Tf 72 {780 - 14 * i} Td ({line}) Tj ET" for i, line in enumerate(escaped)
    )
    stream = DecodedStreamObject()
    stream.set_data(shown.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    if chapter:
        writer.add_outline_item(title=chapter, page_number=0)
    buffer = io.BytesIO()
    writer.write(buffer)
    return PdfReader(io.BytesIO(buffer.getvalue()))


def test_the_checks_fail_on_a_bad_pdf():
    code = [
        'print(f"{len(unverified)} of {len(results)} rows not yet checked")',
        "x = torch.zeros(1, 1, size, size)",
    ]
    bad = hand_made_pdf(
        [
            "1. Timeline",
            r"the error of \(k\) guesses, $$e_k$$",
            'print(f"{len(unverified)} of {len(res',  # cut at the margin
            "x = torch.zeros(1,",  # wrapped: whole
            "1, size, size)",
        ],
        chapter="1. Timeline",
    )
    text = bad.pages[0].extract_text()

    assert missing_titles(text, ["Timeline", "Evaluation metrics"]) == ["Evaluation metrics"]
    assert missing_titles("the first\nlayer’s stride", ["the first layer's stride"]) == []
    assert len(raw_tex(text)) == 4  # \( \) $$ $$
    assert chapters_without_figures(bad) == ["1. Timeline"]
    assert cut_lines(text, code) == [code[0]]
