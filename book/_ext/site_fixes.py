"""The book's own Sphinx extension (see ``_config.yml``): fixes and trims to the built site.

Each piece answers one problem of the site under Jupyter Book 1 (Sphinx 7.4,
sphinx-book-theme 1.3 on pydata-sphinx-theme 0.17); ``tests/test_site.py`` checks the result
in a browser.

* **One execution cache per environment.** jupyter-cache keys a notebook on its code cells
  only, so a change to ``course_utils`` would reuse stale outputs. The cache folder is named
  by a hash of ``course_utils/`` and ``requirements.txt`` (:func:`name_the_execution_cache`).
* **Scripts reach a page twice.** An inline script that an extension adds with
  ``app.add_js_file(None, body=...)`` after the builder has started (sphinx-thebe,
  sphinx-togglebutton) reaches every page twice (file name ``None`` and ``""``); the
  browser then logs "Identifier 'THEBE_JS_URL' has already been declared". Each page
  keeps the first copy (:func:`drop_duplicate_scripts`).
* **Weight.** What no page uses is trimmed after the build: scripts, CSS rules, icon
  glyphs, MathJax's unused parts, figures' unused alpha channel (``page_weight.py``).
* **Accessibility.** sphinxcontrib-bibtex marks each reference ``role="doc-biblioentry"``
  (deprecated in ARIA 1.2) inside ``role="list"``; Sphinx's ``_modules/index`` nests a list
  directly in a list; the root ``index.html`` (a redirect) has no title or language.
  :func:`fix_page_body` and :func:`write_root_redirect` fix them.
* **The single-page build** (``--builder singlehtml``, printed as the book's PDF by
  ``scripts/build_pdf.py``) is written to ``book/index.html`` with links made for the site's
  root folder: it becomes ``index.html``, and its citations link within the page.
* **Figures at full size.** Each figure of a chapter links to its image file, so a reader
  can open it at its full resolution (:func:`fix_page_body`).
* **Last updated.** Each page's date is the date of the last commit of its source file
  (:func:`last_updated_from_git`), not the date of the build.
* **Bibliography**: labels, citations and back-links, in the module ``bibliography``
  (loaded by :func:`setup`).
"""

from __future__ import annotations

import functools
import hashlib
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------
# The execution cache.

#: What the chapters' outputs depend on besides their own code: jupyter-cache keys a
#: notebook on its code cells only, so the cache folder is named by a hash of these.
CACHE_INPUTS = ("course_utils", "requirements.txt")


def environment_hash(root: Path = ROOT) -> str:
    """A short hash of every file of ``course_utils/`` and ``requirements.txt`` (names and bytes)."""
    digest = hashlib.sha256()
    for name in CACHE_INPUTS:
        path = root / name
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(root)).encode() + b"\0")
                digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


#: MathJax's entry point (the loader): ``mathjax3_config`` in ``_config.yml`` says what it
#: loads. (sphinx-mathjax-offline sets ``mathjax_path`` to the combined ``tex-chtml.js``
#: in its setup, over ``_config.yml``'s value, so it is set here, once the config is read.)
MATHJAX_PATH = "mathjax/startup.js"


def load_mathjax_in_parts(app, config) -> None:
    config.mathjax_path = MATHJAX_PATH


def name_the_execution_cache(app, config) -> None:
    """Point jupyter-cache at ``_build/.jupyter_cache/<hash of course_utils and requirements>``.

    Unless ``_config.yml`` names a cache folder itself (``execute: cache:``).
    """
    if not config.nb_execution_cache_path:
        build = Path(app.outdir).parent
        config.nb_execution_cache_path = str(build / ".jupyter_cache" / environment_hash())


def one_environment_per_output(app, config) -> None:
    """Keep each output folder's Sphinx environment apart: ``_build/.doctrees/<folder>``.

    Jupyter Book gives every builder the same ``_build/.doctrees``, so the single-page
    build (the PDF's source) and the HTML build would reuse each other's pickled
    environment; an HTML build after a single-page one then wrote citations without
    their label's letter ("2010" for "2010c"). Runs before Sphinx loads the environment.
    """
    folder = Path(app.outdir).name
    if Path(app.doctreedir).name != folder:
        app.doctreedir = type(app.doctreedir)(Path(app.doctreedir) / folder)


def complete_executed_copies(app, exception) -> None:
    """Give every executed copy in ``_build/jupyter_execute/`` its outputs.

    myst-nb 1.4 writes there the notebook it executed, but when jupyter-cache already had
    the outputs it writes the notebook as stored (without them): it merges the cached
    outputs into a new object and saves the old one. Here each copy without any output
    gets them from the cache (``tests/test_executed_notebooks.py`` reads these copies).
    """
    if exception is not None or app.config.nb_execution_mode != "cache":
        return
    import nbformat
    from jupyter_cache import get_cache

    folder = Path(app.outdir).parent / "jupyter_execute"
    cache_path = Path(app.config.nb_execution_cache_path)
    if not folder.is_dir() or not cache_path.is_dir():
        return
    cache = get_cache(cache_path)
    for path in folder.rglob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        if not code or any(cell.get("outputs") for cell in code):
            continue
        try:
            _, merged = cache.merge_match_into_notebook(notebook)
        except KeyError:  # not in the cache: leave the copy as it is
            continue
        temporary = path.with_name(f".{path.name}.tmp")
        nbformat.write(merged, temporary)
        os.replace(temporary, path)


# ---------------------------------------------------------------------------
# What each page loads.


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    return (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """Remove repeated entries from the page's ``script_files``, keeping their order."""
    seen: set[tuple] = set()
    unique = []
    for script in context.get("script_files", []):
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


# ---------------------------------------------------------------------------
# The page's HTML.

# An image of the site's image folder that is not already inside a link.
_IMAGE = re.compile(r'(?<!>)(<img\b[^>]*\bsrc="((?:\.\./)*_images/[^"]+)"[^>]*>)')


def link_figures_to_full_size(body: str) -> str:
    """Wrap every figure image (``_images/...``) in a link to the image file itself."""

    def wrap(match: re.Match) -> str:
        img, src = match.group(1), match.group(2)
        return f'<a class="full-size-figure" href="{src}">{img}</a>'

    # Images already in a link (<a ...><img ...>) are left as they are.
    parts = re.split(r"(<a\b[^>]*>\s*<img\b[^>]*>)", body)
    return "".join(part if i % 2 else _IMAGE.sub(wrap, part) for i, part in enumerate(parts))


def fix_page_body(app, pagename, templatename, context, doctree) -> None:
    """Fix the accessibility problems of generated markup; link figures to their image."""
    body = context.get("body")
    if not body:
        return
    # ARIA 1.2 deprecates doc-biblioentry; inside role="list" each entry is a listitem.
    body = body.replace('role="doc-biblioentry"', 'role="listitem"')
    if pagename == "_modules/index":
        # viewcode nests a package's modules as <li>package</li><ul>...</ul>: a list may
        # hold only <li>, so the inner list goes inside the package's item.
        body = re.sub(r"</li>\s*<ul>", "\n<ul>", body)
        body = re.sub(r"</ul>\s*</ul>", "</ul></li>\n</ul>", body)
    if app.builder.name == "singlehtml":
        # Sphinx points a reference to an anchor of another document (a citation) at the
        # root document's file ("book/index.html#id4"); the whole book is one page, the
        # site's index.html (write_root_redirect), so the anchor alone is the target.
        body = body.replace(f'href="{app.config.root_doc}.html#', 'href="#')
    context["body"] = link_figures_to_full_size(body)


# ---------------------------------------------------------------------------
# Last updated: the date of the source file's last commit.


@functools.cache
def _git_dates() -> dict[str, str]:
    """File (relative to the repository) -> date of its last commit (YYYY-MM-DD)."""
    try:
        log = subprocess.run(
            ["git", "log", "--format=@%cs", "--name-only", "--no-renames"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return {}
    dates: dict[str, str] = {}
    date = None
    for line in log.splitlines():
        if line.startswith("@"):
            date = line[1:]
        elif line and date:
            dates.setdefault(line, date)  # the log runs newest first
    return dates


def last_updated_from_git(app, pagename, templatename, context, doctree) -> None:
    """Set the page's "Last updated" to its source file's last commit (if it has one)."""
    try:
        source = Path(app.env.doc2path(pagename)).resolve().relative_to(ROOT)
    except (ValueError, KeyError):
        return
    date = _git_dates().get(source.as_posix())
    if date:
        context["last_updated"] = date


# ---------------------------------------------------------------------------
# Pages of modules that no longer exist.


def remove_old_source_pages(app) -> None:
    """Delete the highlighted-source pages (``_modules/``) of the last build.

    sphinx.ext.viewcode writes a page per module but never removes one: after a module is
    renamed or deleted, its old page stays in the site (and in its search and link checks).
    Removed at the start of each build, every page is written again for the modules that
    exist (a few seconds).
    """
    folder = Path(app.outdir) / "_modules"
    if app.builder.format == "html" and folder.is_dir():
        shutil.rmtree(folder)


# ---------------------------------------------------------------------------
# Files written after the build.

ROOT_REDIRECT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<meta http-equiv="refresh" content="0; url={target}">
<link rel="canonical" href="{target}">
</head>
<body>
<p><a href="{target}">{title}</a></p>
</body>
</html>
"""


def write_root_redirect(app, exception) -> None:
    """The site's ``index.html``: a redirect to the landing page, with a title and a language.

    (sphinx-external-toc writes a bare ``<meta>`` redirect when no ``index.html`` exists;
    this runs first.) The single-page build (``--builder singlehtml``) needs no redirect:
    its one page becomes the ``index.html``.
    """
    if exception is not None or app.builder.format != "html" or app.config.root_doc == "index":
        return
    outdir = Path(app.outdir)
    if app.builder.name == "singlehtml":
        # The whole book, written to <root_doc>.html (book/index.html) with its links made
        # for the site's root folder: it is the site's index.html (scripts/build_pdf.py).
        page = outdir / f"{app.config.root_doc}.html"
        os.replace(page, outdir / "index.html")
        if page.parent != outdir and not any(page.parent.iterdir()):
            page.parent.rmdir()
        return
    target = app.builder.get_target_uri(app.config.root_doc)
    title = html.escape(app.config.html_title or app.config.project or "Home")
    temporary = outdir / ".index.html.tmp"
    temporary.write_text(
        ROOT_REDIRECT.format(title=title, target=html.escape(target)), encoding="utf-8"
    )
    os.replace(temporary, outdir / "index.html")


def setup(app):
    app.setup_extension("bibliography")  # book/_ext/bibliography.py: its setup(app)
    app.connect("config-inited", name_the_execution_cache)
    app.connect("config-inited", one_environment_per_output)
    app.connect("config-inited", load_mathjax_in_parts)
    app.connect("builder-inited", remove_old_source_pages)
    app.connect("html-page-context", drop_duplicate_scripts)
    app.connect("html-page-context", fix_page_body)
    app.connect("html-page-context", last_updated_from_git)
    # Before sphinx-external-toc's bare redirect (priority 500); after sphinx-mathjax-offline
    # has copied MathJax (priority 500, registered earlier).
    app.connect("build-finished", write_root_redirect, priority=400)
    app.setup_extension("page_weight")  # trims after the build: scripts, CSS, fonts, MathJax
    app.setup_extension("downloads")  # each chapter's notebook with its outputs, and clean
    app.connect("build-finished", complete_executed_copies)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
