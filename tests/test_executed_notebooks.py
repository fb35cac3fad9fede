"""The chapters as the book build executed them match their recorded outputs.

CI executes each chapter once: the book build does (``jupyter-book build``, which fails on a
cell that raises), and leaves the executed copies in ``_build/jupyter_execute/``. This test
compares, in each copy, the outputs of the cells tagged ``nbval-check-output`` with
``tests/notebook_outputs/<chapter>.json``, the way nbval does when it runs a notebook
(``pytest notebooks/NN_name.ipynb``, still the command for one chapter you are editing):
nbval's own comparison, with the sanitizers of ``tests/nbval_sanitize.cfg``.

Skips when no build has executed the chapters (or the executed copy is older than the
chapter); ``REQUIRE_SITE=1`` (``.ci/run``, after its build) turns the skip into a failure.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbval.plugin import IPyNbCell, coalesce_streams, get_sanitize_patterns

from scripts.record_notebook_outputs import is_checked

ROOT = Path(__file__).resolve().parents[1]
EXECUTED = Path(os.environ.get("EXECUTED_DIR", ROOT / "_build" / "jupyter_execute"))
RECORDED = ROOT / "tests" / "notebook_outputs"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


class _Comparison:
    """nbval's output comparison (``IPyNbCell.compare_outputs``) outside a pytest collector."""

    compare_outputs = IPyNbCell.compare_outputs
    sanitize = IPyNbCell.sanitize

    def __init__(self):
        patterns = dict(get_sanitize_patterns(SANITIZE.read_text(encoding="utf-8")))
        # The fields nbval leaves out of the comparison (IPyNbFile.skip_compare; images too,
        # as without --nbdime).
        self.parent = SimpleNamespace(
            sanitize_patterns=patterns,
            skip_compare=(
                "metadata",
                "traceback",
                "prompt_number",
                "output_type",
                "name",
                "execution_count",
                "application/vnd.jupyter.widget-view+json",
                "image/png",
                "image/jpeg",
            ),
        )
        self.colors = SimpleNamespace(OKBLUE="", FAIL="", ENDC="", OKGREEN="")
        self.comparison_traceback: list[str] = []

    def format_output_compare(self, key, recorded, executed) -> None:
        """What nbval reports on a mismatch (its own version needs a pytest item)."""
        diff = difflib.unified_diff(
            str(recorded).splitlines(),
            str(executed).splitlines(),
            "recorded",
            "executed",
            lineterm="",
        )
        self.comparison_traceback.append(f"mismatch {key!r}:\n" + "\n".join(diff))

    def differences(self, executed: list, recorded: list) -> str | None:
        """None when nbval would pass the cell; otherwise its report of the difference."""
        executed = coalesce_streams([nbformat.from_dict(o) for o in executed])
        recorded = coalesce_streams([nbformat.from_dict(o) for o in recorded])
        if self.compare_outputs(executed, recorded):
            return None
        return "\n".join(self.comparison_traceback)


def compare_chapter(executed_path: Path, recorded_path: Path) -> list[str]:
    """The cells of one executed chapter whose checked outputs differ from the recording."""
    notebook = nbformat.read(executed_path, as_version=4)  # multi-line strings joined
    recorded = (
        json.loads(recorded_path.read_text(encoding="utf-8")) if recorded_path.is_file() else {}
    )
    problems = []
    checked = [cell for cell in notebook["cells"] if is_checked(cell)]
    for cell in checked:
        if cell.get("id") not in recorded:
            problems.append(f"cell {cell.get('id')}: no recorded output in {recorded_path.name}")
            continue
        difference = _Comparison().differences(cell["outputs"], recorded[cell["id"]])
        if difference is not None:
            problems.append(f"cell {cell['id']}:\n{difference}")
    missing = sorted(set(recorded) - {cell.get("id") for cell in checked})
    problems += [f"cell {cid}: recorded, but not a checked cell of the chapter" for cid in missing]
    return problems


def test_the_comparison_can_fail(tmp_path):
    """A hand-made executed chapter: equal outputs pass, a changed number fails, and the
    sanitizer lets a memory address differ."""
    stream = {"output_type": "stream", "name": "stdout", "text": "accuracy 0.91 at 0x7f3a\n"}
    cell = nbformat.v4.new_code_cell("", id="c1", metadata={"tags": ["nbval-check-output"]})
    cell.outputs = [nbformat.from_dict(stream)]
    executed = tmp_path / "ch.ipynb"
    recorded = tmp_path / "ch.json"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), executed)

    same = dict(stream, text="accuracy 0.91 at 0x55aa\n")
    recorded.write_text(json.dumps({"c1": [same]}), encoding="utf-8")
    assert compare_chapter(executed, recorded) == []

    changed = dict(stream, text="accuracy 0.92 at 0x7f3a\n")
    recorded.write_text(json.dumps({"c1": [changed]}), encoding="utf-8")
    (problem,) = compare_chapter(executed, recorded)
    assert problem.startswith("cell c1:") and "0.92" in problem

    recorded.write_text(json.dumps({}), encoding="utf-8")
    assert compare_chapter(executed, recorded) == ["cell c1: no recorded output in ch.json"]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_executed_chapter_matches_its_recorded_outputs(chapter):
    executed = EXECUTED / "notebooks" / chapter.name
    if not executed.is_file() or executed.stat().st_mtime < chapter.stat().st_mtime:
        reason = (
            f"no executed copy of {chapter.name} newer than the chapter in {EXECUTED}: "
            "build the book first (`jupyter-book build . -W --keep-going`)"
        )
        if os.environ.get("REQUIRE_SITE") == "1":
            pytest.fail(f"{reason} (REQUIRE_SITE=1)")
        pytest.skip(reason)
    problems = compare_chapter(executed, RECORDED / f"{chapter.stem}.json")
    assert not problems, f"{chapter.name}: checked outputs differ:\n" + "\n".join(problems)
