"""A notebook with a failing cell must fail both the book build and the test run.

Builds a throwaway one-chapter book with the project's own _config.yml, once
with a passing cell (the control) and once with a failing one.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def make_book(folder: Path, code: str) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "_config.yml", folder / "_config.yml")
    (folder / "references.bib").write_text("")
    config = (folder / "_config.yml").read_text().replace("book/references.bib", "references.bib")
    (folder / "_config.yml").write_text(config)
    for assets in ("book/_static", "book/_ext"):  # the site's CSS, favicon, local extension
        shutil.copytree(ROOT / assets, folder / assets)
    (folder / "_toc.yml").write_text("format: jb-book\nroot: chapter\n")
    notebook = {
        "cells": [
            {"cell_type": "markdown", "id": "t", "metadata": {}, "source": "# A chapter"},
            {
                "cell_type": "code",
                "id": "c",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": code,
            },
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = folder / "chapter.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def build(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from jupyter_book.cli.main import main; main()",
            "build",
            str(folder),
            "-W",
            "--keep-going",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )


def nbval(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--nbval-lax",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(notebook.parent),
            str(notebook),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=notebook.parent,
    )


def test_failing_cell_fails_build_and_tests(tmp_path):
    good = make_book(tmp_path / "good", "print(1 + 1)")
    bad = make_book(tmp_path / "bad", "raise RuntimeError('deliberate failure')")

    assert nbval(good).returncode == 0
    result = nbval(bad)
    assert result.returncode != 0 and "deliberate failure" in result.stdout

    assert build(good.parent).returncode == 0
    result = build(bad.parent)
    assert result.returncode != 0
    assert "deliberate failure" in result.stdout + result.stderr
