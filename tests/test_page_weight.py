"""The trims of ``book/_ext/page_weight.py``: they remove only what no page uses.

Hand-made stylesheets and figures for each rule, the theme's own Font Awesome font for the
subsetting, and, on the built site (``_build/html``; skipped when there is none), every
icon a page shows still drawn by a CSS rule and a glyph of the shipped font, checked
against the theme's original stylesheet. The browser tests (``tests/test_site.py``) check
the pages themselves; ``scripts/compare_site_screenshots.py`` compares a trimmed site with
an untrimmed one pixel for pixel.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))


@pytest.fixture(scope="module")
def page_weight():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        spec = importlib.util.spec_from_file_location(
            "page_weight", ROOT / "book" / "_ext" / "page_weight.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.pop(0)


def theme_file(relative: str) -> Path:
    """A file of pydata-sphinx-theme's static folder, as the package ships it."""
    pytest.importorskip("pydata_sphinx_theme")
    import pydata_sphinx_theme

    path = Path(pydata_sphinx_theme.__file__).parent / "theme/pydata_sphinx_theme/static"
    return path / relative


# ---------------------------------------------------------------------------
# CSS: which rules go.

WORDS = {"used", "other", "shown"}


@pytest.mark.parametrize(
    ("selector", "kept"),
    [
        (".used", True),
        (".unused", False),
        ("div.used > p", True),
        (".used .unused", False),  # needs both classes: one is on no page
        ("p:not(.unused)", True),  # the missing class makes it match more, not less
        (".used:not(.unused)", True),
        (":is(.unused, .used)", True),  # kept: a list inside
        ("html[data-theme=dark] .used", True),
        ("html[data-theme=dark] .unused", False),
        (".bs-tooltip-auto .tooltip-arrow", False),  # tooltip-arrow is not in WORDS
        (".bs-tooltip-auto", True),  # built by Bootstrap's script from pieces: kept
        ("p", True),
        ("#main", True),
    ],
)
def test_a_selector_goes_only_when_it_needs_a_class_no_page_has(page_weight, selector, kept):
    assert page_weight.selector_can_match(selector, WORDS) is kept


def test_purge_keeps_rules_with_one_live_selector_and_at_rules(page_weight):
    css = (
        ".used{color:red}"
        ".unused{color:blue}"
        ".unused,.other{margin:0}"
        "@media (min-width:720px){.unused{display:none}}"
        "@media print{.shown{display:block}.unused{color:red}}"
        "@font-face{font-family:X;src:url(x.woff)}"
        ':root{--pst-icon-x:"\\f105"}'
    )
    out = page_weight.purge_css(css, WORDS)
    assert ".used{color:red}" in out
    assert ".unused{color:blue}" not in out
    assert ".unused,.other{margin:0}" in out  # one of its selectors can match
    assert "min-width:720px" not in out  # the block held only dead rules
    assert "@media print{.shown{display:block}}" in out
    assert "@font-face" in out and "--pst-icon-x" in out


def test_icon_code_points_read_escapes_and_characters(page_weight):
    css = '.fa-a:before{content:"\\f105"}:root{--x:"\uf09b";--y:"\\e0ab"}.z{content:"\\2014"}'
    assert page_weight.icon_code_points(css) == {0xF105, 0xF09B, 0xE0AB}


# ---------------------------------------------------------------------------
# Fonts: the subset draws the same glyphs.


def test_subset_font_keeps_exactly_the_glyphs_asked_for(page_weight, tmp_path):
    from fontTools.ttLib import TTFont

    source = theme_file("vendor/fontawesome/webfonts/fa-solid-900.ttf")
    if not source.is_file():
        pytest.skip(f"no {source}")
    points = {0xF105, 0xF002, 0xF00C}  # angle-right, magnifying-glass, check
    target = tmp_path / "fa.woff"
    page_weight.subset_font(source, points, target)
    original, subset = TTFont(source), TTFont(target)
    assert subset.flavor == "woff"
    assert set(subset.getBestCmap()) == points
    for point in points:
        a = original["glyf"][original.getBestCmap()[point]]
        b = subset["glyf"][subset.getBestCmap()[point]]
        coordinates_a = a.getCoordinates(original["glyf"])[0]
        coordinates_b = b.getCoordinates(subset["glyf"])[0]
        assert list(coordinates_a) == list(coordinates_b), hex(point)
        assert original["hmtx"][a_name(original, point)] == subset["hmtx"][a_name(subset, point)]
    assert target.stat().st_size < source.stat().st_size / 20


def a_name(font, point: int) -> str:
    return font.getBestCmap()[point]


# ---------------------------------------------------------------------------
# The built site: every icon a page shows is still drawn.


def built_site() -> Path:
    if not (SITE / "_static" / "styles" / "pydata-sphinx-theme.css").is_file():
        pytest.skip("no built site in _build/html (jupyter-book build .)")
    return SITE


def test_every_icon_on_a_page_keeps_its_rule_and_its_glyph(page_weight):
    from fontTools.ttLib import TTFont

    site = built_site()
    original_css = theme_file("styles/pydata-sphinx-theme.css")
    if not original_css.is_file():
        pytest.skip(f"no {original_css}")
    # What each icon class draws, from the theme's stylesheet as shipped.
    rules = re.findall(
        r"([^{}]+)\{content:\"\\(f[0-9a-f]{3}|e[0-9a-f]{3})\"\}",
        original_css.read_text(encoding="utf-8"),
    )
    draws = {}
    for selectors, point in rules:
        for name in re.findall(r"\.(fa-[\w-]+):before", selectors):
            draws[name] = int(point, 16)
    used = set()
    for page in site.rglob("*.html"):
        for classes in re.findall(r'<i class="([^"]*)"', page.read_text(encoding="utf-8")):
            used |= {c for c in classes.split() if c in draws}
    assert used, "no Font Awesome icon found on any page: the check would pass vacuously"
    shipped_css = (site / "_static/styles/pydata-sphinx-theme.css").read_text(encoding="utf-8")
    fonts = sorted((site / "_static/vendor/fontawesome/webfonts").glob("*.woff*"))
    covered = set()
    for font in fonts:
        covered |= set(TTFont(font).getBestCmap() or {})
    problems = []
    for name in sorted(used):
        if not re.search(rf"\.{re.escape(name)}:before[,{{]", shipped_css):
            problems.append(f"{name}: its rule was removed from the theme's stylesheet")
        if draws[name] not in covered:
            problems.append(f"{name}: U+{draws[name]:04X} is in no shipped icon font")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------
# Figures.


def test_figures_are_stored_without_unused_alpha_losslessly(page_weight, tmp_path):
    """The stored figure has no alpha channel and the same pixels."""
    rng = np.random.default_rng(0)
    few = rng.integers(0, 4, (60, 80, 1)) * np.array([60, 30, 20])  # 4 colours
    many = rng.integers(0, 256, (60, 80, 3))  # a photograph's worth of colours
    for name, rgb in (("few", few), ("many", many)):
        rgba = np.concatenate([rgb, np.full((60, 80, 1), 255)], axis=2).astype(np.uint8)
        path = tmp_path / f"{name}.png"
        Image.fromarray(rgba, "RGBA").save(path)
        page_weight.shrink_png(path)
        with Image.open(path) as stored:
            assert stored.mode in ("RGB", "P"), f"{name}: still {stored.mode}"
            assert np.array_equal(np.asarray(stored.convert("RGB")), rgba[..., :3]), name
    half = np.full((10, 10, 4), 255, np.uint8)
    half[..., 3] = 128  # a real alpha channel is kept
    Image.fromarray(half, "RGBA").save(tmp_path / "half.png")
    page_weight.shrink_png(tmp_path / "half.png")
    with Image.open(tmp_path / "half.png") as stored:
        assert stored.mode == "RGBA"
