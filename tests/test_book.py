"""The book's structure: table of contents, clean notebooks, Colab setup cells, one repository URL."""

import importlib.util
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from sitetools import book_pages

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    listed = book_pages()
    for path in NOTEBOOKS:
        assert f"notebooks/{path.stem}" in listed, f"{path.name} is not listed in _toc.yml"
    for entry in listed:
        matches = list(ROOT.glob(entry + ".*"))
        assert matches, f"_toc.yml lists {entry}, which does not exist"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path):
    for cell in cells(path):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, (
                f"{path.name} was committed with outputs; clear them "
                "(expected outputs of checked cells live in tests/notebook_outputs/)"
            )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_opens_like_a_chapter(path):
    all_cells = cells(path)
    assert all_cells[0]["cell_type"] == "markdown"
    assert "".join(all_cells[0]["source"]).startswith("# "), "first cell must be the title"
    sources = ["".join(c["source"]) for c in all_cells if c["cell_type"] == "code"]
    sync = load_script("sync_repository_url")
    assert sources[0] == sync.setup_cell_source(), (
        f"{path.name}: the first code cell is not the Colab setup cell; "
        "run python scripts/sync_repository_url.py"
    )
    assert "cu.setup_notebook(" in sources[1], "second code cell must seed with cu.setup_notebook"
    assert all(len(c["id"]) > 0 for c in all_cells)
    assert len({c["id"] for c in all_cells}) == len(all_cells), "cell ids must be unique"


#: The longest code line that the site shows without sideways scrolling at 1280 pixels
#: (book/_static/custom.css; tests/test_site.py checks the rendered page too).
MAX_CODE_LINE = 88


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_page(path):
    long = [
        line
        for cell in cells(path)
        if cell["cell_type"] == "code"
        for line in "".join(cell["source"]).splitlines()
        if len(line) > MAX_CODE_LINE
    ]
    assert not long, f"{path.name}: lines over {MAX_CODE_LINE} characters: {long}"


def run_setup_cell(monkeypatch, on_colab: bool, imported: bool) -> list[list[str]]:
    """Execute the Colab setup cell with pip replaced by a recorder; return pip's commands."""
    commands = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kwargs: commands.append(list(args)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if imported:
        monkeypatch.setitem(sys.modules, "course_utils", types.ModuleType("course_utils"))
    else:
        monkeypatch.delitem(sys.modules, "course_utils", raising=False)
    exec(compile(load_script("sync_repository_url").setup_cell_source(), "setup", "exec"), {})
    return commands


def test_setup_cell_does_nothing_outside_colab(monkeypatch):
    assert run_setup_cell(monkeypatch, on_colab=False, imported=True) == []


def test_setup_cell_installs_the_current_repository_without_replacing_torch(monkeypatch, capsys):
    url, branch = load_script("sync_repository_url").repository()
    first, second = run_setup_cell(monkeypatch, on_colab=True, imported=False)
    for command in (first, second):
        assert command[1:4] == ["-m", "pip", "install"] and command[-1] == f"git+{url}@{branch}"
        assert not any(arg.startswith(("torch", "torchvision")) for arg in command)
    # The first install keeps whatever Colab has that satisfies the ranges (torch);
    # the second reinstalls the course's code even when its version number is unchanged.
    assert "--force-reinstall" not in first and "--upgrade" not in first
    assert {"--force-reinstall", "--no-deps"} <= set(second)
    assert capsys.readouterr().out == ""


def test_setup_cell_asks_for_a_restart_when_the_old_code_is_loaded(monkeypatch, capsys):
    run_setup_cell(monkeypatch, on_colab=True, imported=True)
    assert "Restart session" in capsys.readouterr().out


def test_repository_url_has_one_source():
    sync = load_script("sync_repository_url")
    expected = {sync.owner_and_name(), sync.pages_url()}
    for name in sync.DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        named = {m.group(2) for m in sync.REPOSITORY_IN_TEXT.finditer(text)}
        named |= {m.group(0) for m in sync.PAGES_IN_TEXT.finditer(text)}
        assert named and named <= expected, (
            f"{name} names {named}, not the repository of _config.yml or its Pages site; "
            "run python scripts/sync_repository_url.py"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_checked_cells_have_recorded_outputs(path):
    recorded_file = ROOT / "tests" / "notebook_outputs" / f"{path.stem}.json"
    checked = [c["id"] for c in cells(path) if load_script("record_notebook_outputs").is_checked(c)]
    recorded = json.loads(recorded_file.read_text(encoding="utf-8")) if checked else {}
    assert sorted(recorded) == sorted(checked), (
        f"{recorded_file.name} is out of date; run scripts/record_notebook_outputs.py"
    )


def test_course_utils_does_not_pin_torch():
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for dep in deps:
        name = re.split(r"[<>=!~ \[]", dep)[0]
        if name in ("torch", "torchvision"):
            assert "==" not in dep and "<" not in dep, f"{dep}: never pin torch in course_utils"


def test_the_bibliography_parses_and_every_entry_is_closed():
    """pybtex (what sphinxcontrib-bibtex reads it with) parses references.bib, entry by entry.

    A merge once dropped two closing braces: the file still looked fine to the eye, and only
    the book build (minutes later) failed.
    """
    import pybtex.database

    text = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    entries = re.split(r"(?m)^(?=@)", text)
    for entry in entries[1:]:
        assert entry.count("{") == entry.count("}"), entry.splitlines()[0]
    database = pybtex.database.parse_string(text, "bibtex")
    assert len(database.entries) == len(entries) - 1
