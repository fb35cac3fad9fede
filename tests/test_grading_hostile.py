"""Grade the hostile submissions of issue 20 in the sandbox, beside correct work in every format.

Runs the grader as the instructor would (``python -m grading``, a subprocess) on a folder
holding ``tests/hostile_submissions/a2_deconvnet/*`` and correct hand-ins of assignment 2
as a notebook (its kernelspec renamed, no otter metadata), a ``.py`` file, an
``.ipynb.txt`` and a zip, plus a PDF. Then checks what each scored, that every hand-in has
a row, that no other hand-in, the grades, the seed or the repository was reached, and
that no process of a submission outlived the grading. Needs bubblewrap (CI installs it).
"""

import csv
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import psutil
import pytest

from grading.sandbox import check_bwrap

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = ROOT / "tests" / "hostile_submissions" / "a2_deconvnet"
SOLUTION = ROOT / "tests" / "grading_fixtures" / "a2_solution.py"
STUDENT_NOTEBOOK = ROOT / "assignments" / "student" / "a2_deconvnet" / "a2_deconvnet.ipynb"
CANARY = "canary-seed-7f3a"  # the seed; h05 scores only if it finds it

# Skipped only where bubblewrap is not installed (CI installs it); installed but unable to
# make a sandbox (user namespaces forbidden) is a failure, not a skip.
pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="bubblewrap is not installed")


def test_bubblewrap_can_make_a_sandbox_here():
    assert check_bwrap() is None, check_bwrap()


#: What each hand-in deserves (total points of 7), and why.
EXPECTED = {
    "h01_rewrite_tests": 0,  # zeros; no test file to rewrite, nothing outside writable
    "h02_patch_comparisons": 0,  # the comparisons run in the grader's process
    "h03_forge_results": 0,  # forged results have the wrong shapes; a link, a pickle refused
    "h04_course_utils_bypass": 0,  # course_utils is not in the sandbox at all
    "h05_seed_thief": 0,  # answers only if it found the seed or the network
    "h06_harm_classmates": 0,  # answers only if it saw another hand-in or the grades
    "h07_outlive_grading": 7,  # correct answers; its detached processes die
    "h08_resources": 4,  # q1 cannot allocate 3 GB: 0; q2 uses the reference unpool: 4
    "h09_loop_forever": 0,  # stopped by the wall clock
    "classmate_GOODWORK": 7,  # a notebook with kernelspec "ml-env", no otter metadata
    "GOODWORK_source": 7,  # a .py file
    "GOODWORK_text": 7,  # a notebook saved as .ipynb.txt
    "GOODWORK_export": 7,  # a zip holding the notebook
    "report": 0,  # a PDF: a row with a message, 0
}


def _good_notebook() -> dict:
    """The student notebook of assignment 2, answered in a last cell, as students may send it."""
    notebook = json.loads(STUDENT_NOTEBOOK.read_text(encoding="utf-8"))
    notebook["cells"].append(
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": SOLUTION.read_text(encoding="utf-8")}
    )  # fmt: skip
    notebook["metadata"] = {
        "kernelspec": {"name": "ml-env", "display_name": "ML", "language": "python"}
    }
    return notebook


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    folder = base / "submissions"
    folder.mkdir()
    for path in HOSTILE.glob("*.py"):
        shutil.copyfile(path, folder / path.name)
    text = json.dumps(_good_notebook(), indent=1)
    (folder / "classmate_GOODWORK.ipynb").write_text(text, encoding="utf-8")
    (folder / "GOODWORK_text.ipynb.txt").write_text(text, encoding="utf-8")
    shutil.copyfile(SOLUTION, folder / "GOODWORK_source.py")
    with zipfile.ZipFile(folder / "GOODWORK_export.zip", "w") as zipped:
        zipped.writestr("a2_deconvnet.ipynb", text)
    (folder / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    seed_file = base / "seed.txt"
    seed_file.write_text(CANARY)
    out = base / "grades" / "grades.csv"
    repository = _repository_state()
    env = {**os.environ, "INSIDE_ILSVRC_GRADING_SEED": CANARY, "PYTHONPATH": str(ROOT)}
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "grading", "a2_deconvnet", str(folder), "--out", str(out),
         "--seed-file", str(seed_file), "--jobs", "2", "--timeout", "30", "--call-timeout", "3",
         "--memory-mb", "1500"],
        cwd=base, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stdout + done.stderr
    time.sleep(1)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    return {
        "rows": rows, "folder": folder, "before": before, "base": base, "seconds": seconds,
        "repository": repository, "log": done.stdout,
    }  # fmt: skip


def _repository_state() -> list[str]:
    """Files of the repository that carry the hostile submissions' marker (name or text).

    Markers, not ``git status``: someone may be editing the checkout while the tests run.
    """
    marked = [str(p) for p in ROOT.rglob("HOSTILE_MARKER*")]
    done = subprocess.run(
        [
            "git",
            "grep",
            "-l",
            "--untracked",
            "HOSTILE_MARKER_" + "h01",  # not this line itself
            "--",
            ":!tests/hostile_submissions",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return marked + done.stdout.split()


def test_every_hand_in_has_a_row_with_what_it_deserves(graded):
    rows = {Path(row["submission"]).name.split(".")[0]: row for row in graded["rows"]}
    assert sorted(rows) == sorted(EXPECTED), graded["log"]
    scored = {name: float(row["total"]) for name, row in rows.items()}
    assert scored == {name: float(points) for name, points in EXPECTED.items()}, graded["log"]
    for row in graded["rows"]:
        assert row["possible"] == "7.00" and row["mode"] in ("bwrap", "not run")
    assert "PDF" in rows["report"]["message"] or "not" in rows["report"]["message"]
    assert "stopped after 30 s" in rows["h09_loop_forever"]["message"]


def test_no_other_hand_in_grades_seed_or_repository_was_changed(graded):
    folder = graded["folder"]
    after = {p.name: p.read_bytes() for p in folder.iterdir()}
    assert after == graded["before"], "a hand-in was changed, added or deleted"
    text = (graded["base"] / "grades" / "grades.csv").read_text(encoding="utf-8")
    assert "forged" not in text and "HOSTILE" not in text
    markers = [p for p in graded["base"].rglob("*") if "HOSTILE_MARKER" in p.name]
    assert not markers
    assert _repository_state() == graded["repository"] == [], "the repository changed"
    assert not list(Path("/tmp").glob("HOSTILE_MARKER*"))


def test_no_process_of_a_submission_outlives_grading(graded):
    alive = []
    for process in psutil.process_iter(["cmdline"]):
        if any("HOSTILE_DAEMON_h07" in part for part in process.info["cmdline"] or []):
            alive.append(process.pid)
    assert not alive


def test_a_loop_costs_its_limit_and_no_more(graded):
    # 14 hand-ins, 2 at a time; the endless loop is stopped at 30 s; the rest take seconds
    assert graded["seconds"] < 300, graded["log"]
