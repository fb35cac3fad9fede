"""The website as readers see it: every page of the built book, opened in headless Chromium.

This test builds nothing. It serves the site that ``jupyter-book build .`` left in
``_build/html`` (or in ``$SITE_DIR``) on localhost and opens every page of ``_toc.yml``
in Debian's Chromium, driven by Selenium through Debian's ``chromedriver``. On each page:

* the browser console shows no error (a missing file, a script that throws);
* every image in the article has loaded, has a size, and is not blank;
* every formula was typeset by MathJax (which the site serves itself);
* no code or output block scrolls sideways in a 1280-pixel window;
* on a chapter, the Colab button opens that chapter's notebook in the repository;
* in the dark theme, every figure still has an opaque or light background;
* axe-core (WCAG 2.0 and 2.1, levels A and AA) finds no violation, light or dark;
* no formula is a Tab stop (MathJax's menu would make each one a stop);
* nothing makes the page wider than a 390-pixel phone;
* every figure links to its image file (to open it at full size);
* a chapter page weighs under 1.5 MB without its figures.

The pages outside ``_toc.yml`` (index, search, API source pages) get the same axe and
phone checks; on a few pages every control the Tab key reaches must show a visible
focus ring, not clipped by its box.

On the solutions page, no solution is visible until the reader opens its dropdown.

It also checks that the search page finds each chapter by a word of its title, and
that the API reference documents every module of ``course_utils``. It saves a
screenshot of each page, in the light and the dark theme, under
``artifacts/screenshots/`` (git ignores the folder): the window's view, or the whole page
with ``SITE_SCREENSHOTS=full``.

The browser tests skip, saying why, when Chromium is not installed (``apt-get install
chromium chromium-driver``; ``.ci/run`` installs it), when no site has been built, or
when ``_build/html`` is older than the book's sources. ``.ci/run`` runs this file again
after its build with ``REQUIRE_SITE=1``, which turns a missing or stale site into a failure.
"""

from __future__ import annotations

import functools
import html
import importlib
import json
import os
import pkgutil
import posixpath
import re
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from sitetools import BUILD_COMMAND, WINDOW, book_pages, serve, site_problem, start_chromium

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", ROOT / "_build" / "html"))
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
REQUIRED = os.environ.get("REQUIRE_SITE") == "1"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
PAGE_TIMEOUT_S = 30
PHONE = (390, 844)  # a phone's screen, in CSS pixels
PAGE_BUDGET_BYTES = 1.5e6  # a chapter page without its figures (issue 25)
#: axe-core, from npm (`.ci/run`: npm install --prefix artifacts/npm axe-core@4.14.1).
AXE_JS = Path(
    os.environ.get("AXE_CORE_JS", ROOT / "artifacts/npm/node_modules/axe-core/axe.min.js")
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WINDOW_CHROME_PX = 150  # the headless window's height minus its page area
MAX_SCREENSHOT_HEIGHT_PX = 16000  # very long pages are cut here; that is enough to judge them


PAGES = book_pages()
CHAPTERS = [page for page in PAGES if page.startswith("notebooks/")]


def colab_url(page: str) -> str:
    """Where the Colab button of a chapter must point: the notebook in the configured repository."""
    repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo}/blob/{CONFIG['repository']['branch']}/{page}.ipynb"


def not_available(reason: str):
    """Skip, or fail where the site is required (CI, after its build)."""
    if REQUIRED:
        pytest.fail(f"{reason} (REQUIRE_SITE=1)")
    pytest.skip(reason)


# ---------------------------------------------------------------------------
# The API reference: no site needed.


def test_api_reference_documents_every_module():
    import course_utils

    api = (ROOT / "book" / "api.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\.\. automodule:: (course_utils\.\w+)", api, re.MULTILINE))
    modules = {
        f"course_utils.{m.name}"
        for m in pkgutil.iter_modules(course_utils.__path__)
        if not m.name.startswith("_")
    }
    missing = sorted(modules - documented)
    assert not missing, f"book/api.md has no '.. automodule::' section for {missing}"
    for name in documented:
        importlib.import_module(name)  # a section for a module that no longer exists


# ---------------------------------------------------------------------------
# Fixtures: the site, a server for it, a browser.


@pytest.fixture(scope="module")
def site() -> Path:
    if reason := site_problem(SITE):
        not_available(reason)
    missing = [p for p in PAGES if not (SITE / f"{p}.html").is_file()]
    if missing:
        pytest.fail(
            f"the site in {SITE} has no page for {missing}: rebuild it with {BUILD_COMMAND}"
        )
    return SITE


@pytest.fixture(scope="module")
def base_url(site):
    with serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = start_chromium(tmp_path_factory.mktemp("chromium-profile"), WINDOW)
    if driver is None:
        pytest.skip(
            "no Chromium here: install it with `apt-get install chromium chromium-driver` "
            "(and Selenium: pip install -r requirements.txt)"
        )
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    driver.set_script_timeout(PAGE_TIMEOUT_S)
    yield driver
    driver.quit()


# ---------------------------------------------------------------------------
# What the browser is asked, in JavaScript.

# Resolves once the page's scripts have run, its images have loaded and MathJax (if the
# page loads it) has typeset every formula.
WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
const images = [...document.images].map(img => img.complete ? null :
    new Promise(resolve => { img.onload = img.onerror = resolve; }));
const math = (window.MathJax && MathJax.startup && MathJax.startup.promise) || null;
Promise.all([...images, math]).then(() => done("ok"), error => done(String(error)));
"""

# For each image of the article: its size, whether it is blank (one colour), and whether
# its corners are opaque (a transparent figure would vanish on the dark theme).
DESCRIBE_IMAGES = """
const article = document.querySelector("article.bd-article") || document.body;
return [...article.querySelectorAll("img")].map(img => {
  const rect = img.getBoundingClientRect();
  const info = {src: img.getAttribute("src"), alt: img.getAttribute("alt") || "",
                width: img.naturalWidth, height: img.naturalHeight,
                shownWidth: rect.width, shownHeight: rect.height,
                caption: !!(img.closest("figure") && img.closest("figure").querySelector("figcaption")),
                background: getComputedStyle(img).backgroundColor};
  if (img.naturalWidth > 0) {
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let min = 255, max = 0;
    for (let i = 0; i < data.length; i += 4 * 97) {
      const grey = (data[i] + data[i + 1] + data[i + 2]) / 3;
      min = Math.min(min, grey); max = Math.max(max, grey);
    }
    info.contrast = max - min;
    const w = canvas.width, h = canvas.height;
    info.cornerAlpha = Math.min(...[[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]].map(
        ([x, y]) => ctx.getImageData(x, y, 1, 1).data[3]));
  }
  return info;
});
"""

# Formulas in the page, and how many MathJax typeset (or failed on).
DESCRIBE_MATH = """
const article = document.querySelector("article.bd-article") || document.body;
const formulas = [...article.querySelectorAll(".math")];
return {formulas: formulas.length,
        typeset: formulas.filter(f => f.querySelector("mjx-container")).length,
        errors: article.querySelectorAll("mjx-merror").length,
        mathjaxLoaded: !!window.MathJax};
"""


def slug(page: str) -> str:
    return page.replace("/", "__")


def open_page(browser, url: str, theme: str) -> None:
    """Load url in the given theme ("light" or "dark"), waiting for images and MathJax."""
    browser.get(url)
    browser.execute_script(
        "localStorage.setItem('mode', arguments[0]); localStorage.setItem('theme', arguments[0]);",
        theme,
    )
    browser.refresh()
    state = browser.execute_async_script(WAIT_FOR_PAGE)
    assert state == "ok", f"{url}: the page did not finish loading: {state}"
    shown = browser.execute_script("return document.documentElement.dataset.theme")
    assert shown == theme, f"{url}: asked for the {theme} theme, the page shows {shown!r}"


def console_errors(browser) -> list[str]:
    return [entry["message"] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def screenshot(browser, path: Path) -> None:
    """A PNG of what the reader sees first (the window); of the whole page with
    ``SITE_SCREENSHOTS=full`` (the window is made as tall as the page, then put back:
    about 1.5 s a chapter, a minute over the site, which CI does without).

    (Chrome's "capture beyond viewport" would be simpler, but it scrolls the book theme's
    layout sideways on long pages.)
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.environ.get("SITE_SCREENSHOTS") != "full":
        browser.save_screenshot(str(path))
        return
    page_height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(
        WINDOW[0], min(page_height + WINDOW_CHROME_PX, MAX_SCREENSHOT_HEIGHT_PX)
    )
    browser.save_screenshot(str(path))
    browser.set_window_size(*WINDOW)


#: The first line of every code or output block of a cell that is wider than its box
#: (the reader would have to scroll sideways to read it).
WIDE_CODE_BLOCKS = """
return [...document.querySelectorAll('.cell pre')]
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), ''))
  .map(line => line.slice(0, 100));
"""


# axe-core's verdict on the page: its violations, one line each (rule, impact, where).
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"],
                  // WCAG 2.5.3 (label in name): axe files it as experimental, off by default.
                  rules: {"label-content-name-mismatch": {enabled: true}}})
  .then(r => done(r.violations.map(v => v.id + " (" + v.impact + ", " + v.nodes.length
      + "x): " + v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "))),
        e => done(["axe failed: " + e]));
"""


@functools.cache
def axe_source() -> str | None:
    return AXE_JS.read_text(encoding="utf-8") if AXE_JS.is_file() else None


def axe_violations(browser) -> list[str]:
    source = axe_source()
    if source is None:
        not_available(f"no axe-core at {AXE_JS}: npm install --prefix artifacts/npm axe-core@4")
    if not browser.execute_script("return !!window.axe"):
        browser.execute_script(source)
    return browser.execute_async_script(RUN_AXE, AXE_TAGS)


def phone_overflow(browser) -> list[str]:
    """At a 390-pixel phone width: how much wider the page is, and the widest culprits."""
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True},
    )
    try:
        found = browser.execute_script(
            """
const limit = arguments[0];
const width = document.documentElement.scrollWidth;
if (width <= limit) return [];
const culprits = [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > limit + 1 && e.offsetParent !== null)
  .filter(e => ![...e.children].some(c => c.getBoundingClientRect().right > limit + 1))
  .slice(0, 3).map(e => e.tagName.toLowerCase() + "." + [...e.classList].join(".")
                     + ": " + (e.textContent || "").trim().slice(0, 60));
return ["page is " + width + " px wide at " + limit + " px: " + culprits.join(" | ")];
""",
            PHONE[0],
        )
        # A table that scrolls sideways keeps its first column (each row's name) in view.
        found += browser.execute_script(
            """
return [...document.querySelectorAll(".bd-article table")]
  .filter(t => t.offsetParent !== null && t.rows.length > 1)
  .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
  .filter(t => getComputedStyle(t.rows[1].cells[0]).position !== "sticky")
  .map(t => "a table scrolls sideways and its first column scrolls away: "
            + t.innerText.trim().slice(0, 60).replace(/\\s+/g, " "));
"""
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return found


# Formulas that are Tab stops, and figures that do not link to their image file.
DESCRIBE_TAB_STOPS_AND_FIGURE_LINKS = """
const article = document.querySelector("article.bd-article") || document.body;
const formulas = [...document.querySelectorAll("mjx-container")]
  .filter(m => m.tabIndex >= 0 && m.getAttribute("tabindex") !== null).length;
const unlinked = [...article.querySelectorAll("img")]
  .filter(img => (img.getAttribute("src") || "").includes("_images/"))
  .filter(img => { const a = img.closest("a"); return !a || a.href !== img.src; })
  .map(img => img.getAttribute("src"));
return {formulas, unlinked};
"""

# The page's weight without its figures: what the browser fetched for it (decoded bytes).
PAGE_WEIGHT = """
const nav = performance.getEntriesByType("navigation")[0];
return [...performance.getEntriesByType("resource"), nav]
  .filter(r => r.name.startsWith(location.origin) && !r.name.includes("/_images/"))
  .reduce((sum, r) => sum + r.decodedBodySize, 0);
"""

# ---------------------------------------------------------------------------
# The tests.


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_page_in_the_browser(page, browser, base_url):
    url = urllib.parse.urljoin(base_url, f"{page}.html")
    problems = []

    open_page(browser, url, "light")
    problems += [f"console error: {message}" for message in console_errors(browser)]
    images = browser.execute_script(DESCRIBE_IMAGES)
    for img in images:
        if img["width"] == 0 or img["shownWidth"] == 0 or img["shownHeight"] == 0:
            problems.append(f"image {img['src']} did not load or is not shown")
        elif img["contrast"] < 16:
            problems.append(f"image {img['src']} is blank (one colour)")
        if not img["alt"].strip() and not img["caption"]:
            problems.append(f"image {img['src']} has neither alt text nor a caption")
    math = browser.execute_script(DESCRIBE_MATH)
    if math["formulas"] and not math["mathjaxLoaded"]:
        problems.append(f"{math['formulas']} formulas but MathJax was not loaded")
    if math["typeset"] < math["formulas"] or math["errors"]:
        problems.append(
            f"MathJax typeset {math['typeset']} of {math['formulas']} formulas, "
            f"with {math['errors']} errors"
        )
    for block in browser.execute_script(WIDE_CODE_BLOCKS):
        problems.append(f"a code or output block scrolls sideways at {WINDOW[0]} px: {block!r}")
    if page in CHAPTERS:
        links = browser.execute_script(
            "return [...document.querySelectorAll('a[href*=\"colab.research.google.com\"]')]"
            ".map(a => a.href)"
        )
        if links != [colab_url(page)]:
            problems.append(f"Colab links {links}, expected exactly [{colab_url(page)}]")
    state = browser.execute_script(DESCRIBE_TAB_STOPS_AND_FIGURE_LINKS)
    if state["formulas"]:
        problems.append(f"{state['formulas']} formulas are Tab stops")
    problems += [f"figure {src} does not link to its image file" for src in state["unlinked"]]
    if page in CHAPTERS:
        weight = browser.execute_script(PAGE_WEIGHT)
        if weight > PAGE_BUDGET_BYTES:
            over_budget.append(f"{page} weighs {weight / 1e6:.2f} MB without its figures")
    problems += [f"axe (light): {v}" for v in axe_violations(browser)]
    problems += phone_overflow(browser)
    screenshot(browser, SCREENSHOTS / f"{slug(page)}.png")

    open_page(browser, url, "dark")
    problems += [f"axe (dark): {v}" for v in axe_violations(browser)]
    problems += [f"console error (dark theme): {message}" for message in console_errors(browser)]
    for img in browser.execute_script(DESCRIBE_IMAGES):
        background = [int(c) for c in re.findall(r"\d+", img["background"])[:3]] or [0, 0, 0]
        light_background = min(background) >= 180 and not img["background"].endswith(", 0)")
        if img.get("cornerAlpha", 255) < 255 and not light_background:
            problems.append(
                f"image {img['src']} is transparent on a dark background: illegible in the dark theme"
            )
    screenshot(browser, SCREENSHOTS / f"{slug(page)}-dark.png")

    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


#: Chapters over the weight budget, filled by test_page_in_the_browser.
over_budget: list[str] = []


@pytest.mark.slow
def test_chapters_are_within_the_weight_budget(browser):
    """Runs after test_page_in_the_browser (same module, later in the file)."""
    assert not over_budget, "over the 1.5 MB budget:\n  " + "\n  ".join(over_budget)


def test_the_landing_page_has_math_so_the_math_check_is_exercised(site):
    assert 'class="math' in (site / f"{PAGES[0]}.html").read_text(encoding="utf-8"), (
        "the landing page should show the top-5 error as a formula"
    )


# A code cell that draws (unconditionally: the call is not indented under an `if`) must
# show its figure on the page. (With the environment variable MPLBACKEND=Agg, for
# instance, the notebooks draw into nothing and the site silently loses every figure.)
DRAWS = re.compile(r"\b(?:plt\.(?:subplots|figure|imshow|plot)|show_images|plot_\w+)\(")
CELL = re.compile(r'<div class="cell(?: [^"]*)? docutils container"')


@pytest.mark.parametrize("page", CHAPTERS)
def test_every_cell_that_draws_shows_its_figure(page, site):
    cells = CELL.split((site / f"{page}.html").read_text(encoding="utf-8"))[1:]
    assert cells, f"{page}: no code cells found in the page (has the theme's markup changed?)"
    missing = []
    for cell in cells:
        code = re.search(r"cell_input.*?<pre>(.*?)</pre>", cell, re.DOTALL)
        source = html.unescape(re.sub(r"<[^>]+>", "", code.group(1))) if code else ""
        draws = any(DRAWS.search(line) for line in source.splitlines() if line[:1].strip())
        if draws and "<img" not in cell:
            missing.append(source.strip().splitlines()[-1])
    assert not missing, (
        f"{page}: cells that draw a figure show none (is MPLBACKEND set?): {missing}"
    )


class _Figures(HTMLParser):
    """The images of a page: (src, alt, inside a <figure> with a caption)."""

    def __init__(self):
        super().__init__()
        self.images: list[tuple[str, str, bool]] = []
        self._figures: list[list] = []  # open <figure>s: their images, and whether captioned

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._figures.append([[], False])
        elif tag == "figcaption" and self._figures:
            self._figures[-1][1] = True
        elif tag == "img":
            src, alt = attrs.get("src") or "", (attrs.get("alt") or "").strip()
            if self._figures:
                self._figures[-1][0].append((src, alt))
            else:
                self.images.append((src, alt, False))

    def handle_endtag(self, tag):
        if tag == "figure" and self._figures:
            images, captioned = self._figures.pop()
            self.images += [(src, alt, captioned) for src, alt in images]


# Every figure of a chapter: a caption that describes it (the cell's `"mystnb": {"figure":
# {"caption": "..."}}` metadata), and short alt text of its own (`{"image": {"alt": "..."}}`;
# myst-nb's default is the file name) that no other figure of the page shares: a screen
# reader reads the alt text, then the caption.
@pytest.mark.parametrize("page", CHAPTERS)
def test_every_chapter_figure_has_its_own_alt_text_and_a_caption(page, site):
    parser = _Figures()
    parser.feed((site / f"{page}.html").read_text(encoding="utf-8"))
    figures = [(src, alt, captioned) for src, alt, captioned in parser.images if "_images/" in src]
    problems = [f"{src}: no caption" for src, _, captioned in figures if not captioned]
    problems += [
        f"{src}: no alt text of its own" for src, alt, _ in figures if not alt or alt == src
    ]
    alts = [alt for _, alt, _ in figures]
    problems += [
        f"alt text used twice: {alt!r}" for alt in sorted(set(alts)) if alts.count(alt) > 1
    ]
    problems += [
        f"{src}: alt text of {len(alt)} characters (the caption describes)"
        for src, alt, _ in figures
        if len(alt) > ALT_TEXT_MAX_CHARS
    ]
    assert figures, f"{page}: no figure found: the check would pass vacuously"
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)


#: Alt text names the figure; the caption under it describes it.
ALT_TEXT_MAX_CHARS = 200


def search_word(page: str) -> str:
    """The longest word of a chapter's title: what a reader might type to find it."""
    path = ROOT / f"{page}.ipynb"
    import json

    first = json.loads(path.read_text(encoding="utf-8"))["cells"][0]
    title = "".join(first["source"]).splitlines()[0].lstrip("# ")
    return max(re.findall(r"[A-Za-z]{4,}", title), key=len)


@pytest.mark.slow
@pytest.mark.parametrize("page", CHAPTERS)
def test_search_finds_the_chapter(page, browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    word = search_word(page)
    browser.get(urllib.parse.urljoin(base_url, f"search.html?q={urllib.parse.quote(word)}"))
    summary = WebDriverWait(browser, PAGE_TIMEOUT_S).until(
        lambda d: (
            "Search finished"
            in d.execute_script(
                "const s = document.querySelector('#search-results p.search-summary');"
                "return s ? s.innerText : '';"
            )
            and d.find_element(By.CSS_SELECTOR, "#search-results p.search-summary")
        )
    )
    hits = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "ul.search a")]
    assert any(h.split("#")[0].split("?")[0].endswith(f"{page}.html") for h in hits), (
        f"searching for {word!r} does not find {page}; results: {hits} ({summary.text})"
    )
    assert not console_errors(browser)


@pytest.mark.slow
def test_the_site_root_opens_the_landing_page(browser, base_url):
    """The address the site is published at (its index.html) leads to the landing page."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(base_url)
    landing = urllib.parse.urljoin(base_url, f"{PAGES[0]}.html")
    WebDriverWait(browser, PAGE_TIMEOUT_S).until(lambda d: d.current_url == landing)
    assert browser.title.startswith("Inside ILSVRC")
    assert not console_errors(browser)


# ---------------------------------------------------------------------------
# The solutions page: nothing of a solution shows until the reader opens it.

SOLUTIONS_PAGE = "book/solutions"

# Each dropdown of the article: whether it is open, whether the browser renders its body
# (checkVisibility: the body of a closed <details> keeps a layout box, but is not drawn),
# and its text; and the text of the article as the reader sees it (innerText leaves out
# what is not rendered).
DESCRIBE_DROPDOWNS = """
const article = document.querySelector("article.bd-article") || document.body;
const dropdowns = [...article.querySelectorAll("details.sd-dropdown")].map(d => {
  const body = d.querySelector(".sd-summary-content");
  return {open: d.open, title: d.querySelector("summary").innerText.trim(),
          shown: !!body && body.checkVisibility(),
          text: body ? body.textContent : ""};
});
const wide = [...article.querySelectorAll("pre")]
  .filter(pre => pre.offsetParent !== null && pre.scrollWidth > pre.clientWidth + 1)
  .map(pre => pre.textContent.split("\\n")[0].slice(0, 80));
return {dropdowns, visible: article.innerText, wide};
"""


@pytest.mark.slow
def test_solutions_are_hidden_until_the_reader_opens_one(browser, base_url):
    from selenium.webdriver.common.by import By

    exercises = json.loads((ROOT / "course_utils" / "_data" / "exercises.json").read_text("utf-8"))
    open_page(browser, urllib.parse.urljoin(base_url, f"{SOLUTIONS_PAGE}.html"), "light")
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    dropdowns = state["dropdowns"]
    assert len(dropdowns) == len(exercises), "one folded solution per exercise"
    titles = [d["title"] for d in dropdowns]
    assert all(re.fullmatch(r"Solution to exercise \d+\.\d+", t) for t in titles), titles
    assert len(set(titles)) == len(titles), "two dropdowns with one name"
    assert not [d["text"][:60] for d in dropdowns if d["open"] or d["shown"]], "open by default"
    first = dropdowns[0]["text"]
    assert "Answer: 10.9" in first  # timeline-1: a known answer, there but not shown
    visible = state["visible"]
    assert "Answer:" not in visible and "cu.check(" not in visible, "solution text is visible"

    browser.find_elements(By.CSS_SELECTOR, "details.sd-dropdown > summary")[0].click()
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    assert state["dropdowns"][0]["open"] and state["dropdowns"][0]["shown"]
    assert "Answer: 10.9" in state["visible"] and 'cu.check("timeline-1"' in state["visible"]
    assert not any(d["shown"] for d in state["dropdowns"][1:]), "one click opened others"
    assert state["visible"].count("Answer:") == 1

    for summary in browser.find_elements(By.CSS_SELECTOR, "details.sd-dropdown > summary")[1:]:
        browser.execute_script("arguments[0].click();", summary)
    state = browser.execute_script(DESCRIBE_DROPDOWNS)
    assert all(d["shown"] for d in state["dropdowns"])
    assert state["visible"].count("Answer:") == sum("Answer:" in d["text"] for d in dropdowns)
    assert not state["wide"], f"solution code scrolls sideways at {WINDOW[0]} px: {state['wide']}"
    assert not console_errors(browser)


# ---------------------------------------------------------------------------
# The pages outside the table of contents: the same accessibility and phone checks.


def other_pages(site: Path) -> list[str]:
    """Every HTML page of the site not in ``_toc.yml`` (index, search, module source pages),
    except the root ``index.html`` (a redirect)."""
    found = []
    for path in site.rglob("*.html"):
        relative = path.relative_to(site)
        if "_static" in relative.parts or relative.as_posix() == "index.html":
            continue
        if relative.with_suffix("").as_posix() not in PAGES:
            found.append(relative.with_suffix("").as_posix())
    return sorted(found)


@pytest.mark.slow
def test_pages_outside_the_toc_in_the_browser(site, browser, base_url):
    problems = []
    for page in other_pages(site):
        url = urllib.parse.urljoin(base_url, f"{page}.html")
        for theme in ("light", "dark"):
            open_page(browser, url, theme)
            problems += [f"{page}: axe ({theme}): {v}" for v in axe_violations(browser)]
            problems += [f"{page}: console error: {m}" for m in console_errors(browser)]
        problems += [f"{page}: {p}" for p in phone_overflow(browser)]
    assert not problems, "\n  ".join(["pages outside _toc.yml:", *problems])


# ---------------------------------------------------------------------------
# Keyboard: every control the Tab key reaches shows where the focus is.

# Pages with every kind of control: the header and sidebars, code-cell toggles and
# formulas (chapter 5), the solutions' dropdowns, the API reference.
FOCUS_PAGES = [PAGES[0], "notebooks/05_transposed_convolution", "book/solutions", "book/api"]
MAX_TAB_STOPS = 600

# The focused element: its kind (tag and classes), its box, its focus ring (outline or
# shadow), and whether a box that clips its overflow cuts the ring off.
DESCRIBE_FOCUS = """
const e = document.activeElement;
if (!e || e === document.body) return null;
const s = getComputedStyle(e);
const r = e.getBoundingClientRect();
const width = parseFloat(s.outlineWidth) || 0, offset = parseFloat(s.outlineOffset) || 0;
const ring = s.outlineStyle !== "none" && width >= 1;
const shadow = s.boxShadow && s.boxShadow !== "none";
const grow = ring ? Math.max(0, offset + width) : 0;
let clipped = false;
for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
  const o = getComputedStyle(a);
  if ([o.overflow, o.overflowX, o.overflowY].some(v => v !== "visible")) {
    const b = a.getBoundingClientRect();
    if (r.left - grow < b.left - 0.5 || r.right + grow > b.right + 0.5 ||
        r.top - grow < b.top - 0.5 || r.bottom + grow > b.bottom + 0.5) {
      // Only a ring cut by the box counts, not a control scrolled partly out of it.
      if (r.left >= b.left && r.right <= b.right && r.top >= b.top && r.bottom <= b.bottom) {
        clipped = a.tagName.toLowerCase() + "." + [...a.classList].join(".");
      }
    }
  }
}
return {kind: e.tagName.toLowerCase() + "." + [...e.classList].sort().join("."),
        text: (e.innerText || e.getAttribute("aria-label") || "").trim().slice(0, 40),
        formula: e.tagName.toLowerCase() === "mjx-container",
        ring: ring || !!shadow, clipped,
        x: r.left, y: r.top, w: r.width, h: r.height};
"""


def changed_pixels(before: bytes, after: bytes, box: dict, margin: int = 8) -> int:
    """Pixels that differ between two screenshots, in the box grown by ``margin``."""
    import io

    from PIL import Image, ImageChops

    one, two = (Image.open(io.BytesIO(png)).convert("RGB") for png in (before, after))
    left, top = max(0, int(box["x"]) - margin), max(0, int(box["y"]) - margin)
    right = min(one.width, int(box["x"] + box["w"]) + margin)
    bottom = min(one.height, int(box["y"] + box["h"]) + margin)
    if right <= left or bottom <= top:
        return 0  # off the screen
    one, two = one.crop((left, top, right, bottom)), two.crop((left, top, right, bottom))
    import numpy as np

    difference = np.asarray(ImageChops.difference(one, two).convert("L"))
    return int(np.count_nonzero(difference > 24))


@pytest.mark.slow
@pytest.mark.parametrize("page", FOCUS_PAGES)
def test_every_tab_stop_shows_a_focus_ring(page, browser, base_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    open_page(browser, urllib.parse.urljoin(base_url, f"{page}.html"), "light")
    problems, checked_kinds, stops, seen = [], set(), 0, []
    for _ in range(MAX_TAB_STOPS):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focus = browser.execute_script(DESCRIBE_FOCUS)
        if focus is None:
            continue
        key = (focus["kind"], focus["text"], round(focus["x"]), round(focus["y"]))
        if seen and key == seen[0]:
            break  # round the page and back to the first control
        seen.append(key)
        stops += 1
        where = f"{focus['kind']} {focus['text']!r}"
        if focus["formula"]:
            problems.append(f"a formula is a Tab stop: {where}")
            continue
        if not focus["ring"]:
            problems.append(f"no focus ring: {where}")
        if focus["clipped"]:
            problems.append(f"focus ring cut off by {focus['clipped']}: {where}")
        # The ring must be seen, not only declared: compare the pixels around the control
        # with and without focus (once for each kind of control).
        if focus["kind"] not in checked_kinds and focus["w"] > 0 and focus["h"] > 0:
            checked_kinds.add(focus["kind"])
            time.sleep(0.3)  # the theme's transitions (the skip link slides in)
            focus = browser.execute_script(DESCRIBE_FOCUS) or focus
            focused = browser.get_screenshot_as_png()
            browser.execute_script("document.activeElement.blur()")
            time.sleep(0.3)
            blurred = browser.get_screenshot_as_png()
            changed = changed_pixels(blurred, focused, focus)
            perimeter = 2 * (focus["w"] + focus["h"])
            if changed < perimeter:
                problems.append(
                    f"focus changes {changed} pixels around {where} "
                    f"(a ring round its {focus['w']:.0f}x{focus['h']:.0f} box needs {perimeter:.0f})"
                )
            # Back to the same control, by keyboard focus (focus-visible is kept).
            browser.execute_script(
                "const all = [...document.querySelectorAll('*')].filter(e => e.tabIndex >= 0);"
                "const [x, y] = arguments;"
                "const e = all.find(e => { const r = e.getBoundingClientRect();"
                "  return Math.round(r.left) === x && Math.round(r.top) === y; });"
                "if (e) e.focus();",
                round(focus["x"]),
                round(focus["y"]),
            )
    assert stops > 5, f"{page}: only {stops} Tab stops found"
    assert not problems, f"{page} ({stops} Tab stops):\n  " + "\n  ".join(problems)


# ---------------------------------------------------------------------------
# The built HTML, without a browser.


class _SidebarLinks(HTMLParser):
    """The primary sidebar's links: (href, text)."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._depth = 0  # inside the sidebar's <nav class="bd-docs-nav ...">
        self._href = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and "bd-docs-nav" in (attrs.get("class") or ""):
            self._depth = 1
        elif self._depth:
            if tag == "nav":
                self._depth += 1
            if tag == "a":
                self._href, self._text = attrs.get("href"), ""

    def handle_endtag(self, tag):
        if self._depth and tag == "nav":
            self._depth -= 1
        if self._depth and tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._text.split())))
            self._href = None

    def handle_data(self, data):
        if self._href is not None:
            self._text += data


def test_sidebar_numbers_the_chapters_as_their_file_names(site):
    """A chapter's number in the sidebar is its notebook's (NN_name.ipynb); nothing else
    (the part introductions, the back matter) has a number."""
    parser = _SidebarLinks()
    parser.feed((site / f"{PAGES[1]}.html").read_text(encoding="utf-8"))
    assert len(parser.links) >= len(PAGES) - 1, f"the sidebar has only {parser.links}"
    wrong = []
    for href, text in parser.links:
        name = Path(urllib.parse.urlsplit(href).path).stem
        number = re.match(r"(\d+)\.\s", text)
        expected = re.match(r"(\d+)_", name) if "notebooks/" in href else None
        if expected and (not number or int(number.group(1)) != int(expected.group(1))):
            wrong.append(f"{text!r} ({href}): expected number {int(expected.group(1))}")
        elif not expected and number:
            wrong.append(f"{text!r} ({href}) is numbered; only chapters are")
    assert not wrong, "sidebar numbers:\n  " + "\n  ".join(wrong)


def test_root_index_is_a_titled_redirect(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    assert re.search(r"<html[^>]*\blang=\"en\"", text), "index.html has no lang"
    assert re.search(r"<title>[^<]+</title>", text), "index.html has no title"
    assert f"{PAGES[0]}.html" in text


# ---------------------------------------------------------------------------
# The bibliography: the citations in the text, and the entries of the references page with
# their back-links ("Cited in: 3. AlexNet (first of 5); ..."), read from the built HTML.

REFERENCES_PAGE = "book/references.html"


class _Citations(HTMLParser):
    """A page's title, every id it has, and its citations: one ``(span id, links)`` per
    ``<span class="bibtex-citation">``, each link ``(target id on the references page,
    link text, the citation's text before the link)``."""

    def __init__(self):
        super().__init__()
        self.title = ""
        self.ids: set[str] = set()
        self.citations: list[tuple[str | None, list[tuple[str, str, str]]]] = []
        self._in_title = False
        self._depth = 0  # <span> depth inside the current citation
        self._text = ""  # the current citation's text so far
        self._link: tuple[str, int] | None = None  # (target, where its text starts)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        self._in_title = tag == "title"
        href = attrs.get("href") or ""
        if self._depth:
            if tag == "span":
                self._depth += 1
            elif tag == "a" and "references.html#" in href:
                self._link = (href.partition("#")[2], len(self._text))
        elif tag == "span" and "bibtex-citation" in (attrs.get("class") or "").split():
            self._depth, self._text = 1, ""
            self.citations.append((attrs.get("id"), []))

    def handle_endtag(self, tag):
        self._in_title = False
        if self._depth and tag == "a" and self._link:
            target, start = self._link
            before, text = self._text[:start], self._text[start:]
            self.citations[-1][1].append((target, " ".join(text.split()), " ".join(before.split())))
            self._link = None
        elif self._depth and tag == "span":
            self._depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self._depth:
            self._text += data


class _Bibliography(HTMLParser):
    """The references page: entry id -> ``{"label": ..., "links": [back-link, ...]}``, each
    back-link a dict of its ``href``, ``visible`` and ``hidden`` text and the text ``after``
    it (up to the next link)."""

    def __init__(self):
        super().__init__()
        self.entries: dict[str, dict] = {}
        self._entry: dict | None = None
        self._label = 0  # <span> depth inside the label
        self._cited_in = False
        self._link: dict | None = None
        self._hidden = 0  # <span> depth inside the link's visually hidden part

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "div" and "citation" in classes:
            self._entry = self.entries[attrs["id"]] = {"label": "", "links": []}
        elif self._entry is None:
            return
        elif tag == "span" and (self._label or "label" in classes):
            self._label += 1
        elif tag == "p" and "cited-in" in classes:
            self._cited_in = True
        elif self._cited_in and tag == "a":
            self._link = {"href": attrs.get("href", ""), "visible": "", "hidden": "", "after": ""}
            self._entry["links"].append(self._link)
        elif self._link is not None and tag == "span":
            if self._hidden or "visually-hidden" in classes:
                self._hidden += 1

    def handle_endtag(self, tag):
        if tag == "span" and self._label:
            self._label -= 1
        elif tag == "span" and self._hidden:
            self._hidden -= 1
        elif tag == "a" and self._link is not None:
            self._link["after_link"] = True
        elif tag == "p" and self._cited_in:
            self._cited_in, self._link = False, None
        elif tag == "div":
            self._entry = None

    def handle_data(self, data):
        if self._label:
            self._entry["label"] += data
        elif self._link is not None and self._link.get("after_link"):
            self._link["after"] += data
        elif self._link is not None:
            self._link["hidden" if self._hidden else "visible"] += data


def read_bibliography(site: Path) -> dict[str, dict]:
    parser = _Bibliography()
    parser.feed((site / REFERENCES_PAGE).read_text(encoding="utf-8"))
    for entry in parser.entries.values():
        entry["label"] = " ".join(entry["label"].split()).removeprefix("[").removesuffix("]")
    return parser.entries


def read_citations(site: Path) -> dict[str, _Citations]:
    """Every built page (relative path -> what :class:`_Citations` found on it)."""
    pages = {}
    for path in sorted(site.rglob("*.html")):
        if "_static" not in path.relative_to(site).parts:
            parser = _Citations()
            parser.feed(path.read_text(encoding="utf-8"))
            pages[path.relative_to(site).as_posix()] = parser
    return pages


def citation_mismatches(entries: dict[str, dict], pages: dict[str, _Citations]) -> list[str]:
    """Each citation must write its entry's label: "[Org, 2010a]" ({cite:p}, {cite}) or
    "Org [2010a]" ({cite:t}), the year with the label's letter."""
    wrong = []
    for page, parsed in pages.items():
        for _, links in parsed.citations:
            for target, text, before in links:
                if target not in entries:
                    wrong.append(f"{page}: {text!r} links to #{target}, not an entry")
                    continue
                label = entries[target]["label"]
                names, year = label.rsplit(", ", 1)
                textual = text == year and re.search(re.escape(names) + r" \[[^\[\]]*$", before)
                if text != label and not textual:
                    wrong.append(f"{page}: {before[-40:]!r} {text!r} -> [{label}]")
    return wrong


def backlink_problems(entries: dict[str, dict], pages: dict[str, _Citations]) -> list[str]:
    """Each entry's back-links must go to exactly the pages whose citations link to it,
    to the first of them on each page, say how many there are, be named as the page is
    ("3. AlexNet", the number of a chapter's file name), and name the entry to a screen
    reader."""
    cited: dict[str, dict[str, list[str]]] = {}  # entry -> page -> citation ids, in order
    for page, parsed in pages.items():
        for span_id, links in parsed.citations:
            for target, _, _ in links:
                cited.setdefault(target, {}).setdefault(page, []).append(span_id)
    problems = []
    for target, entry in entries.items():
        label, linked = entry["label"], {}
        for link in entry["links"]:
            href, _, fragment = link["href"].partition("#")
            page = posixpath.normpath(posixpath.join(posixpath.dirname(REFERENCES_PAGE), href))
            linked[page] = fragment
            where = f"[{label}] -> {page}#{fragment}"
            ids = cited.get(target, {}).get(page, [])
            if page not in pages or fragment not in pages[page].ids:
                problems.append(f"{where}: no such id on that page")
            if ids and fragment != ids[0]:
                problems.append(f"{where}: not the page's first citation of it (#{ids[0]})")
            count = f"(first of {len(ids)})" if len(ids) > 1 else ""
            if link["after"].strip(" ;") != count:
                problems.append(f"{where}: says {link['after'].strip()!r}, not {count!r}")
            title = pages[page].title.split("\u2014")[0].strip() if page in pages else None
            visible = " ".join(link["visible"].split())
            number = re.match(r"notebooks/(\d+)_", page)
            if visible != title or (number and not visible.startswith(f"{int(number[1])}. ")):
                problems.append(f"{where}: named {visible!r}, the page is {title!r}")
            if " ".join(link["hidden"].split()) != f"{label}, cited in":
                problems.append(f"{where}: the hidden text is {link['hidden']!r}")
        expected = set(cited.get(target, {}))
        if set(linked) != expected:
            problems.append(
                f"[{label}]: back-links to {sorted(linked)}, cited on {sorted(expected)}"
            )
    return problems


def test_bibliography_labels_match_the_citations_in_the_text(site):
    """Each citation in the text ("Krizhevsky et al. [2012]", "[Organizers, 2010a]") writes
    the label of the entry it links to ("Krizhevsky et al., 2012", "Organizers, 2010a"),
    with the letter that tells two entries of the same authors and year apart."""
    entries = read_bibliography(site)
    assert entries, "no bibliography entries found on the references page"
    labels = [e["label"] for e in entries.values()]
    assert all(re.search(r", (\d{4}|n\.d\.)[a-z]?$", label) for label in labels), labels
    pages = read_citations(site)
    cited = [t for p in pages.values() for _, links in p.citations for t, _, _ in links]
    assert len(cited) > 20, f"only {len(cited)} citations found: has their markup changed?"
    lettered = {t for t in cited if re.search(r"\d[a-z]$", entries.get(t, {}).get("label", ""))}
    assert lettered, "no cited entry has a lettered label (2012a): the check is not exercised"
    wrong = citation_mismatches(entries, pages)
    assert not wrong, "citations and labels disagree:\n  " + "\n  ".join(wrong[:20])


def test_bibliography_entries_link_back_to_where_they_are_cited(site):
    entries = read_bibliography(site)
    pages = read_citations(site)
    assert sum(len(e["links"]) for e in entries.values()) > 20, "hardly any back-links"
    problems = backlink_problems(entries, pages)
    assert not problems, "back-links:\n  " + "\n  ".join(problems[:20])


#: A references page and a chapter, as the build writes them (shortened): the checks above
#: pass on them, and each hand-made break below must make one fail.
_FIXTURE_REFERENCES = """<title>References &#8212; Book</title>
<div class="citation" id="id7" role="listitem">
<span class="label"><span class="fn-bracket">[</span>Org, 2010a<span class="fn-bracket">]</span></span>
<p>Org. Results of 2010.</p>
<p class="cited-in">Cited in: <a class="reference internal" href="../notebooks/01_a.html#id2"><span
class="visually-hidden">Org, 2010a, cited in </span>1. Timeline</a> (first of 2)</p></div>
<div class="citation" id="id8" role="listitem">
<span class="label"><span class="fn-bracket">[</span>Org, 2010b<span class="fn-bracket">]</span></span>
<p>Org. Rules of 2010.</p>
<p class="cited-in">Cited in: <a class="reference internal" href="../notebooks/01_a.html#id3"><span
class="visually-hidden">Org, 2010b, cited in </span>1. Timeline</a></p></div>
"""
_FIXTURE_CHAPTER = """<title>1. Timeline &#8212; Book</title>
<p>As announced <span class="bibtex-citation" id="id2">[<a class="reference internal"
href="../book/references.html#id7">Org, 2010a</a>]</span>, and as <span class="bibtex-citation"
id="id3">Org [<a class="reference internal" href="../book/references.html#id8">2010b</a>]</span>
wrote <span class="bibtex-citation" id="id4">[<a class="reference internal"
href="../book/references.html#id7">Org, 2010a</a>]</span>.</p>
"""


def _fixture_site(tmp_path: Path, references: str, chapter: str) -> Path:
    (tmp_path / "book").mkdir(parents=True)
    (tmp_path / "notebooks").mkdir()
    (tmp_path / REFERENCES_PAGE).write_text(references, encoding="utf-8")
    (tmp_path / "notebooks" / "01_a.html").write_text(chapter, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "old, new",
    [
        ("Org [<a", "Org et al. [<a"),  # {cite:t} names other authors
        (">2010b</a>", ">2010</a>"),  # {cite:t} without the label's letter
        (">Org, 2010a</a>]</span>,", ">Org, 2010</a>]</span>,"),  # {cite:p}, the same
        ("references.html#id8", "references.html#id9"),  # links to no entry
    ],
)
def test_the_citation_check_can_fail(tmp_path, old, new):
    ok = _fixture_site(tmp_path / "ok", _FIXTURE_REFERENCES, _FIXTURE_CHAPTER)
    assert citation_mismatches(read_bibliography(ok), read_citations(ok)) == []
    chapter = _FIXTURE_CHAPTER.replace(old, new)
    assert chapter != _FIXTURE_CHAPTER
    broken = _fixture_site(tmp_path / "broken", _FIXTURE_REFERENCES, chapter)
    assert citation_mismatches(read_bibliography(broken), read_citations(broken))


@pytest.mark.parametrize(
    "page, old, new",
    [
        ("references", "01_a.html#id2", "01_a.html#id4"),  # not the first citation
        ("references", "01_a.html#id3", "01_a.html#id33"),  # no such id
        ("references", " (first of 2)", ""),  # the count is missing
        ("references", "</span>1. Timeline</a></p>", "</span>Timeline</a></p>"),  # no number
        ("references", "Org, 2010b, cited in", "Org, 2010a, cited in"),  # the wrong entry
        ("chapter", "references.html#id8", "references.html#id7"),  # no longer cited
    ],
)
def test_the_backlink_check_can_fail(tmp_path, page, old, new):
    ok = _fixture_site(tmp_path / "ok", _FIXTURE_REFERENCES, _FIXTURE_CHAPTER)
    assert backlink_problems(read_bibliography(ok), read_citations(ok)) == []
    references, chapter = _FIXTURE_REFERENCES, _FIXTURE_CHAPTER
    if page == "references":
        references = references.replace(old, new)
    else:
        chapter = chapter.replace(old, new)
    assert (references, chapter) != (_FIXTURE_REFERENCES, _FIXTURE_CHAPTER)
    broken = _fixture_site(tmp_path / "broken", references, chapter)
    assert backlink_problems(read_bibliography(broken), read_citations(broken))


def test_a_small_book_cites_lettered_entries_with_their_letter(tmp_path):
    """The book's extension on a three-page Sphinx project: two entries of one author and
    year, cited as {cite:t}, {cite:p} and {cite} (the book itself has no {cite:t} of such
    an entry), must be cited with the letter of their label and linked back to."""
    from sphinx.cmd.build import build_main

    src, out = tmp_path / "src", tmp_path / "html"
    (src / "book").mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['sphinxcontrib.bibtex', 'bibliography']\n"
        "bibtex_bibfiles = ['refs.bib']\n"
        "bibtex_default_style = 'authoryear'\n"
        "bibtex_reference_style = 'author_year_labelled'\n",
        encoding="utf-8",
    )
    (src / "refs.bib").write_text(
        "@misc{rules, author={Org}, title={Rules of 2010}, year={2010}}\n"
        "@misc{results, author={Org}, title={Results of 2010}, year={2010}}\n"
        "@misc{other, author={Ann Smith and Bo Lee and Cy Wu}, title={Other}, year={2012}}\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text(
        "Home\n====\n\n.. toctree::\n\n   chapter\n   book/references\n", encoding="utf-8"
    )
    (src / "chapter.rst").write_text(
        "Chapter\n=======\n\nAs :cite:t:`rules` wrote, and :cite:p:`results,other`"
        " and :cite:`rules`, also :cite:t:`other`.\n",
        encoding="utf-8",
    )
    (src / "book" / "references.rst").write_text(
        "References\n==========\n\n.. bibliography::\n", encoding="utf-8"
    )
    assert build_main(["-q", "-W", "-b", "html", str(src), str(out)]) == 0
    entries, pages = read_bibliography(out), read_citations(out)
    assert sorted(e["label"] for e in entries.values()) == [
        "Org, 2010a",
        "Org, 2010b",
        "Smith et al., 2012",
    ]
    texts = [text for _, links in pages["chapter.html"].citations for _, text, _ in links]
    assert len(texts) == 5 and "2010b" in texts, texts  # "Org [2010b]": rules, after results
    assert citation_mismatches(entries, pages) == []
    assert backlink_problems(entries, pages) == []
    assert [len(e["links"]) for e in entries.values()] == [1, 1, 1]


#: What a chapter prints when it could not download something (course_utils.download,
#: course_utils.models): the published site is built with network and must show none.
# "Offline: ..." (a download failed) or the ImageNet sections' own line when they were not
# asked to download (INSIDE_ILSVRC_IMAGENET unset): in the output only, since the code cell
# that prints it splits the string over two lines.
OFFLINE_MESSAGE = re.compile(r"\bOffline: |skipped: set IMAGENET = True\s+\(or INSIDE_ILSVRC")


def pages_with_the_offline_message(site: Path) -> list[str]:
    return sorted(
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if "_static" not in path.parts
        and OFFLINE_MESSAGE.search(html.unescape(re.sub(r"<[^>]+>", "", path.read_text("utf-8"))))
    )


def test_the_offline_check_can_fail(tmp_path):
    (tmp_path / "a.html").write_text("<pre>Offline: skipped the ImageNet weights</pre>")
    (tmp_path / "b.html").write_text("<p>An offline reader sees no figure.</p>")
    (tmp_path / "c.html").write_text(
        "<pre>ImageNet section skipped: set IMAGENET = True\n"
        "(or INSIDE_ILSVRC_IMAGENET=1) to download AlexNet's weights, 233 MB</pre>"
    )
    (tmp_path / "d.html").write_text(
        '<pre>print("skipped: set IMAGENET = True\\n"\n'
        '      "(or INSIDE_ILSVRC_IMAGENET=1) to download")</pre>'
    )
    assert pages_with_the_offline_message(tmp_path) == ["a.html", "c.html"]


@pytest.mark.skipif(
    os.environ.get("REQUIRE_ONLINE") != "1",
    reason="a build without network prints 'Offline: ...'; the deploy workflow sets REQUIRE_ONLINE=1",
)
def test_no_published_page_shows_the_offline_message(site):
    found = pages_with_the_offline_message(site)
    assert not found, (
        f"pages built without network (they print 'Offline: ...' and miss a figure): {found}"
    )
