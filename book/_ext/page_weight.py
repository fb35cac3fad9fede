"""What a reader's browser downloads: the built site, trimmed after the build.

Each function runs once the HTML is written (``build-finished``) and removes only what no
page uses; ``tests/test_site.py`` checks the result in a browser, and
``scripts/benchmark_site.py`` measures the weight of each page (``benchmarks/RESULTS.md``).

* **Scripts a page does not need.** Font Awesome comes twice (pydata's ``fontawesome.js``
  draws the icons as SVG; its CSS and web fonts do the same job for the icons the theme
  writes as ``<i>``); the search index (``searchindex.js``) and the search code are loaded
  on every page although only the search page uses them (pydata 0.17 loads them in
  ``<head>`` for its search-as-you-type, which this book does not turn on)
  (:func:`trim_written_pages`).
* **CSS rules no page can match.** The theme's stylesheet (397 KB) carries all of
  Bootstrap and a rule for each of Font Awesome's 1,900 icons, sphinx-design's (55 KB) a
  rule for every component it offers; a rule whose every selector names a class that
  appears in no page and no script of the site is removed (:func:`purge_unused_css`).
* **Glyphs no page shows.** Font Awesome's web fonts (274 KB) are cut down to the icons the
  remaining CSS can draw (:func:`subset_icon_fonts`).
* **MathJax.** sphinx-mathjax-offline copies the whole distribution (24 MB):
  :func:`prune_mathjax` keeps the files the site loads.
* **Figures** are stored without their unused alpha channel (:func:`shrink_png`).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

# ---------------------------------------------------------------------------
# Scripts.

#: Written by the theme's templates into every page (not through ``script_files``): Font
#: Awesome's JavaScript (the theme's CSS and web fonts draw the same icons); the search
#: index and Sphinx's search code, which only the search page runs.
FONTAWESOME_JS = re.compile(
    r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>'
)
SEARCH_ONLY_JS = re.compile(
    r'\s*<script src="[^"]*(?:searchindex|_static/searchtools|_static/language_data)'
    r'\.js[^"]*"></script>'
)


def _write_atomically(path: Path, data: str | bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    if isinstance(data, str):
        temporary.write_text(data, encoding="utf-8")
    else:
        temporary.write_bytes(data)
    os.replace(temporary, path)


def _pages(outdir: Path) -> Iterable[Path]:
    for path in sorted(outdir.rglob("*.html")):
        if "_static" not in path.relative_to(outdir).parts:
            yield path


def trim_written_pages(app, exception) -> None:
    """Take Font Awesome's JS out of every page, the search scripts out of all but search."""
    if exception is not None or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    for path in _pages(outdir):
        text = path.read_text(encoding="utf-8")
        trimmed = FONTAWESOME_JS.sub("", text)
        if path != outdir / "search.html":
            trimmed = SEARCH_ONLY_JS.sub("", trimmed)
        if trimmed != text:
            _write_atomically(path, trimmed)


# ---------------------------------------------------------------------------
# CSS rules that no page can match.

#: The stylesheets purged: the theme's (Bootstrap, Font Awesome's icon rules, pydata's and
#: sphinx-book-theme's own) and the extensions' (Sphinx, sphinx-design, myst-nb, Pygments,
#: the toggle and copy buttons). The book's own (``html_css_files``) are left as written.
PURGED_CSS = ("*.css", "styles/*.css")

#: Classes that scripts build from pieces at run time (Bootstrap's ``bs-tooltip-auto``,
#: ``bs-popover-...``), so that they never appear whole in a script: kept by prefix.
KEPT_CLASS_PREFIXES = ("bs-",)

_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
_NOT = re.compile(r":not\((?:[^()]|\([^()]*\))*\)")
_WORD = re.compile(r"[\w-]+")


def words_of_the_site(outdir: Path) -> set[str]:
    """Every word (``[\\w-]+``) of every page and of every script of the site except MathJax:
    a superset of the class names the pages carry or the scripts add."""
    words: set[str] = set()
    sources = list(_pages(outdir)) + [
        p for p in (outdir / "_static").rglob("*.js") if "mathjax" not in p.parts
    ]
    for path in sources:
        words.update(_WORD.findall(path.read_text(encoding="utf-8", errors="ignore")))
    return words


def selector_can_match(selector: str, words: set[str]) -> bool:
    """Whether a selector may match something: False only when it requires a class that
    appears nowhere in ``words``. Classes inside ``:not(...)`` do not count (their absence
    makes the selector match more); selectors with ``:is``, ``:where`` or ``:has`` are kept."""
    if re.search(r":(?:is|where|has|-webkit-any|-moz-any)\(", selector):
        return True
    required = _CLASS.findall(_NOT.sub("", selector))
    return all(c in words or c.startswith(KEPT_CLASS_PREFIXES) for c in required)


def purge_css(css: str, words: set[str]) -> str:
    """``css`` without the style rules none of whose selectors can match (see
    :func:`selector_can_match`), inside ``@media``/``@supports``/``@layer`` blocks too.
    Other at-rules (``@font-face``, ``@keyframes``, custom properties) are kept as they are."""
    import tinycss2

    def purge(rules) -> list:
        kept = []
        for rule in rules:
            if rule.type == "qualified-rule":
                selectors = _split_selectors(tinycss2.serialize(rule.prelude))
                if any(selector_can_match(s, words) for s in selectors):
                    kept.append(rule)
            elif (
                rule.type == "at-rule"
                and rule.content is not None
                and (rule.lower_at_keyword in ("media", "supports", "layer", "container"))
            ):
                inner = purge(tinycss2.parse_blocks_contents(rule.content))
                if any(r.type == "qualified-rule" or r.type == "at-rule" for r in inner):
                    rule.content = inner
                    kept.append(rule)
            elif rule.type not in ("whitespace", "comment"):
                kept.append(rule)
        return kept

    return tinycss2.serialize(purge(tinycss2.parse_stylesheet(css)))


def _split_selectors(prelude: str) -> list[str]:
    """Split a selector list at its top-level commas (not those inside parentheses)."""
    parts, depth, current = [], 0, []
    for char in prelude:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def purge_unused_css(app, exception) -> None:
    """:func:`purge_css` on :data:`PURGED_CSS`, against the words of every page and script.

    The source map next to a purged file no longer matches it and is removed.
    """
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    words = words_of_the_site(Path(app.outdir))
    own = {name if isinstance(name, str) else name[0] for name in app.config.html_css_files}
    for path in sorted({p for pattern in PURGED_CSS for p in static.glob(pattern)}):
        if path.relative_to(static).as_posix() in own:
            continue
        css = path.read_text(encoding="utf-8")
        css = re.sub(r"/\*# sourceMappingURL=[^*]*\*/", "", css)
        _write_atomically(path, purge_css(css, words))
        path.with_name(path.name + ".map").unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# Icon fonts.

#: Font Awesome's web fonts as the theme ships them; cut down to the icons in use.
ICON_FONTS = "vendor/fontawesome/webfonts"

# Icon code points in CSS: a private-use character, written as itself or as an escape.
_ICON_ESCAPE = re.compile(r"\\([eEfF][0-9a-fA-F]{3})\b")
_PRIVATE_USE = re.compile("[\ue000-\uf8ff]")


def icon_code_points(css: str) -> set[int]:
    """The private-use code points (U+E000-U+F8FF: icon glyphs) a stylesheet can draw."""
    points = {int(h, 16) for h in _ICON_ESCAPE.findall(css)}
    points |= {ord(c) for c in _PRIVATE_USE.findall(css)}
    return {p for p in points if 0xE000 <= p <= 0xF8FF}


def subset_font(source: Path, points: set[int], target: Path) -> None:
    """Write ``source``'s glyphs for ``points`` (and nothing else) as a WOFF font."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = subset.load_font(str(source), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(points))
    subsetter.subset(font)
    temporary = target.with_name(f".{target.name}.tmp")
    subset.save_font(font, str(temporary), options)
    os.replace(temporary, target)


def subset_icon_fonts(app, exception) -> None:
    """Cut Font Awesome's fonts down to the icons the site's CSS can draw.

    Each ``fa-*.ttf`` becomes a ``fa-*.woff`` with those glyphs only; the ``@font-face``
    rules of the theme's stylesheet point at it, and the full ``.woff2``/``.ttf`` files are
    removed. Runs after :func:`purge_unused_css`, whose kept rules say which icons remain.
    """
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    fonts = static / ICON_FONTS
    if not fonts.is_dir():
        return
    stylesheets = [p for p in static.rglob("*.css") if "mathjax" not in p.parts]
    points: set[int] = set()
    for path in stylesheets:
        points |= icon_code_points(path.read_text(encoding="utf-8", errors="ignore"))
    for ttf in sorted(fonts.glob("*.ttf")):
        subset_font(ttf, points, ttf.with_suffix(".woff"))
    for path in stylesheets:
        css = path.read_text(encoding="utf-8", errors="ignore")
        pointed = re.sub(
            r'url\(([^)]*?/webfonts/fa-[\w-]+)\.woff2\) format\("woff2"\),'
            r'url\([^)]*?\.ttf\) format\("truetype"\)',
            r'url(\1.woff) format("woff")',
            css,
        )
        if pointed != css:
            _write_atomically(path, pointed)
    for path in list(fonts.glob("*.woff2")) + list(fonts.glob("*.ttf")):
        path.unlink()


# ---------------------------------------------------------------------------
# MathJax.

#: The MathJax files the site loads (``mathjax_path`` and ``mathjax3_config`` in
#: ``_config.yml``): the loader, the core, TeX input (and the extensions it loads on demand),
#: HTML output with its fonts, and the assistive MathML. Everything else of the distribution
#: (the combined builds, the menu, SVG output, MathML input, speech, Node files) is removed.
MATHJAX_KEPT = (
    "startup.js",
    "core.js",
    "input/tex.js",
    "input/tex/extensions",
    "output/chtml.js",
    "output/chtml/fonts",
    "a11y/assistive-mml.js",
)


def prune_mathjax(app, exception) -> None:
    """Remove the parts of the copied MathJax distribution the site never loads."""
    folder = Path(app.outdir) / "_static" / "mathjax"
    if exception is not None or not folder.is_dir():
        return
    for path in sorted(folder.rglob("*"), reverse=True):
        relative = path.relative_to(folder).as_posix()
        kept = any(relative == k or relative.startswith(k + "/") for k in MATHJAX_KEPT)
        needed_folder = any(k.startswith(relative + "/") for k in MATHJAX_KEPT)
        if kept or needed_folder:
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


# ---------------------------------------------------------------------------
# Figures.


def _exact_palette(image):
    """The same picture as a palette image: one palette entry per colour (at most 256)."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(image).reshape(-1, 3)
    colours, index = np.unique(pixels, axis=0, return_inverse=True)
    palette = Image.fromarray(index.reshape(image.height, image.width).astype(np.uint8), "P")
    palette.putpalette(colours.astype(np.uint8).tobytes())
    return palette


def shrink_png(path: Path) -> bool:
    """Store a PNG without an alpha channel it does not use, and as a palette image when it
    has at most 256 colours; both lossless. Writes a temporary file, then renames.

    Returns whether the file was rewritten.
    """
    from PIL import Image

    with Image.open(path) as image:
        image.load()
    if image.mode == "RGBA" and image.getchannel("A").getextrema() == (255, 255):
        image = image.convert("RGB")
    elif image.mode not in ("RGB", "L", "P"):
        return False
    if image.mode == "RGB" and image.getcolors(256) is not None:
        image = _exact_palette(image)
    temporary = path.with_name(f".{path.name}.tmp")
    image.save(temporary, format="PNG", optimize=True)
    if temporary.stat().st_size < path.stat().st_size:
        os.replace(temporary, path)
        return True
    temporary.unlink()
    return False


def shrink_figures(app, exception) -> None:
    """:func:`shrink_png` on every figure of the site (``_images/*.png``)."""
    if exception is not None:
        return
    for path in sorted((Path(app.outdir) / "_images").glob("*.png")):
        shrink_png(path)


def setup(app) -> dict:
    """Connect the trims, after sphinx-mathjax-offline has copied MathJax (priority 500)."""
    app.connect("build-finished", prune_mathjax, priority=800)
    app.connect("build-finished", shrink_figures, priority=800)
    app.connect("build-finished", trim_written_pages, priority=800)
    app.connect("build-finished", purge_unused_css, priority=810)
    app.connect("build-finished", subset_icon_fonts, priority=820)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
