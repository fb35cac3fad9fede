"""The trusted grader's parts: intake of any hand-in, results read as data, the CSV, the
refusal without a sandbox, the seed, and the Gradescope zip run in Gradescope's layout.

The attacks of issue 20 are graded in tests/test_grading_hostile.py.
"""

import csv
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from grading import __main__ as cli
from grading import gradescope, sandbox, tests
from grading.grade import Row, load_result, write_csv
from grading.intake import collect, read_code, student_id

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments" / "source"
NEEDS_BWRAP = pytest.mark.skipif(sandbox.check_bwrap() is not None, reason="no bubblewrap")


def solution_cells(name: str) -> list[str]:
    """The code cells of an assignment's source (solutions in place), without its tests."""
    cells = json.loads((SOURCE / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "BEGIN TEST CONFIG" not in "".join(c["source"])
    ]


def notebook(cells: list[str], kernel: str = "ml-env", language: str = "python") -> str:
    return json.dumps({
        "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": c} for c in cells],
        "metadata": {"kernelspec": {"name": kernel, "display_name": kernel, "language": language}},
        "nbformat": 4, "nbformat_minor": 5,
    })  # fmt: skip


# ----------------------------------------------------------------------------- intake


def test_every_form_of_hand_in_is_read_or_told_why(tmp_path):
    cells = ["import numpy as np", "%matplotlib inline\nx = 1\n!pip install foo", "%%time\nx = 2"]
    (tmp_path / "a.ipynb").write_text(notebook(cells))
    (tmp_path / "b.ipynb.txt").write_text(notebook(cells, kernel="python3"))
    (tmp_path / "c.py").write_text("def f():\n    return 1\n")
    with zipfile.ZipFile(tmp_path / "d.zip", "w") as zipped:
        zipped.writestr("export/a1_metrics.ipynb", notebook(cells))
        zipped.writestr("__MACOSX/._a1_metrics.ipynb", "junk")
    with zipfile.ZipFile(tmp_path / "e.zip", "w") as zipped:
        zipped.writestr("one.ipynb", notebook(cells))
        zipped.writestr("two.ipynb", notebook(cells))
    (tmp_path / "f.pdf").write_bytes(b"%PDF-1.4\n\xe2\xe3\xcf\xd3")
    (tmp_path / "g.ipynb").write_text(notebook(["x <- 1"], kernel="ir", language="R"))
    (tmp_path / "h.txt").write_text("")
    (tmp_path / "i.ipynb").symlink_to(tmp_path / "a.ipynb")
    (tmp_path / "j.docx").write_text("My answers: the IoU is 0.5 and so on.")
    found = {s.relative: s for s in collect(tmp_path)}
    assert sorted(found) == sorted(p.name for p in tmp_path.iterdir()), "one row per file"
    for name in ("a.ipynb", "b.ipynb.txt", "d.zip"):
        assert found[name].problem is None, name
        assert found[name].cells[1] == "pass  # %matplotlib inline\nx = 1\npass  # !pip install foo"
        assert found[name].cells[2] == "", "a cell magic is not Python"
    assert found["c.py"].cells == ["def f():\n    return 1\n"]
    problems = {
        name: found[name].problem
        for name in ("e.zip", "f.pdf", "g.ipynb", "h.txt", "i.ipynb", "j.docx")
    }
    assert "several .ipynb" in problems["e.zip"]
    assert "not UTF-8" in problems["f.pdf"]
    assert "in R, not Python" in problems["g.ipynb"]
    assert "empty" in problems["h.txt"]
    assert "a link" in problems["i.ipynb"]
    assert "neither a notebook nor Python source" in problems["j.docx"]


@pytest.mark.parametrize(
    ("path", "pattern", "want"),
    [
        ("doejane_1234567_98765432_a2_deconvnet.ipynb", "canvas", "1234567"),
        ("doejane_LATE_1234567_98765432_a2_deconvnet-1.ipynb", "canvas", "1234567"),
        ("Jane Doe_4242_assignsubmission_file_/a2_deconvnet.ipynb", "moodle", "4242"),
        ("Jane Doe_4242_assignsubmission_file_a2_deconvnet.ipynb", "moodle", "4242"),
        ("s1234567-a2.ipynb", r"^s(?P<id>\d+)-", "1234567"),
        ("jane.ipynb.txt", None, "jane"),
        ("no_match.ipynb", "canvas", "no_match"),  # a pattern that does not match: the name
    ],
)
def test_student_ids_from_lms_file_names(path, pattern, want):
    assert student_id(path, pattern) == want


def test_a_large_or_binary_hand_in_is_not_read_into_memory_whole():
    cells, problem, _ = read_code("big.py", b"x" * (21 << 20))
    assert cells == [] and "larger than" in problem


# ----------------------------------------------------------------------------- results as data


def test_results_are_read_as_numbers_only(tmp_path):
    np.save(tmp_path / "good.npy", np.arange(3.0))
    np.save(tmp_path / "objects.npy", np.array([{"score": 7}], dtype=object), allow_pickle=True)
    (tmp_path / "pickled.npy").write_bytes(pickle.dumps(np.arange(3.0)))
    np.save(tmp_path / "text.npy", np.array(["7/7"]))
    (tmp_path / "link.npy").symlink_to(tmp_path / "good.npy")
    (tmp_path / "failed.json").write_text(json.dumps({"error": "ValueError: shapes"}))
    assert load_result(tmp_path, "good")[0].tolist() == [0.0, 1.0, 2.0]
    assert load_result(tmp_path, "objects") == (None, "an unreadable result (ValueError)")
    assert load_result(tmp_path, "pickled")[0] is None
    assert load_result(tmp_path, "text")[1] == "a result of dtype <U3, not numbers"
    assert load_result(tmp_path, "link")[0] is None, "a link is never followed"
    assert load_result(tmp_path, "failed") == (None, "ValueError: shapes")
    assert load_result(tmp_path, "missing")[1].startswith("no result")


def test_checks_compare_shape_dtype_and_values():
    check = tests.close(np.ones((2, 2), np.float64), dtype=np.float64, what="maps: ")
    assert check(np.ones((2, 2))) is None
    assert check(np.ones((2, 3))) == "maps: expected shape (2, 2), got (2, 3)"
    assert check(np.ones((2, 2), np.float32)) == "maps: expected dtype float64, got float32"
    assert check(np.zeros((2, 2))) == "maps: wrong values"
    assert tests.equal([1, 2])(np.array([1, 3])) == "expected [1, 2], got [1, 3]"


def test_hidden_inputs_follow_the_seed_and_each_test_has_its_own():
    first = tests.rng("one", "a2/q1").normal(size=3)
    assert np.array_equal(first, tests.rng("one", "a2/q1").normal(size=3))
    assert not np.array_equal(first, tests.rng("one", "a2/q2").normal(size=3))
    assert not np.array_equal(first, tests.rng("two", "a2/q1").normal(size=3))


def test_points_per_question_are_those_the_notebooks_announce():
    assert tests.questions("a1_metrics") == {"q1": 3, "q2": 3, "q3": 4, "q4": 3}
    assert tests.questions("a2_deconvnet") == {"q1": 3, "q2": 4}
    assert tests.questions("a3_receptive_field") == {"q1": 2, "q2": 4, "q3": 2}
    for name, points in [("a1_metrics", "3 points"), ("a2_deconvnet", "4 points")]:
        assert points in (SOURCE / f"{name}.ipynb").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- the CSV


def test_the_csv_writes_numbers_one_way_and_keeps_messages_intact(tmp_path):
    message = (
        "q1 q1_ties: expected [0, -1], got \"[1, 0]\"; cell 2: SyntaxError: '(' was never closed"
    )
    rows = [
        Row(
            "1234567",
            "doe_1234567_1_a.ipynb",
            {"q1": 3, "q2": 4.0},
            7,
            7,
            "bwrap",
            "all tests passed",
        ),
        Row("42", "b.py", {"q1": 0.5, "q2": 0}, 0.5, 7, "bwrap", message),
    ]
    write_csv(rows, "a2_deconvnet", tmp_path / "grades.csv")
    read = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8"))))
    assert list(read[0]) == [
        "student_id",
        "submission",
        "q1",
        "q2",
        "total",
        "possible",
        "mode",
        "message",
    ]
    assert [r["total"] for r in read] == ["7.00", "0.50"] and read[0]["q2"] == "4.00"
    assert read[1]["message"] == message
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"], "no temporary file left"
    formula = Row("=HYPERLINK(1)", "=HYPERLINK(1).py", {"q1": 0, "q2": 0}, 0, 7, "bwrap", "x")
    write_csv([formula], "a2_deconvnet", tmp_path / "grades.csv")
    (read,) = csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text(encoding="utf-8")))
    assert read["student_id"] == "'=HYPERLINK(1)", "a file name is never a spreadsheet formula"


# ----------------------------------------------------------------------------- the command


def test_without_bubblewrap_grading_refuses_unless_told_unsafe(tmp_path, monkeypatch, capsys):
    (tmp_path / "subs").mkdir()
    (tmp_path / "subs" / "report.pdf").write_bytes(b"%PDF\xff")
    (tmp_path / "seed").write_text("s")
    monkeypatch.setattr(sandbox, "check_bwrap", lambda: "bwrap is not installed")
    args = ["a1_metrics", str(tmp_path / "subs"), "--seed-file", str(tmp_path / "seed"),
            "--out", str(tmp_path / "grades.csv")]  # fmt: skip
    assert cli.main(args) == 2
    assert "Refusing to run student code without a sandbox" in capsys.readouterr().err
    assert not (tmp_path / "grades.csv").exists()
    assert cli.main([*args, "--unsafe-no-sandbox"]) == 0
    assert "WITHOUT a sandbox" in capsys.readouterr().err


def test_no_seed_is_drawn_and_kept_in_a_private_file(tmp_path, monkeypatch):
    monkeypatch.delenv(cli.SEED_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)

    class Args:
        seed_file = None

    seed = cli._seed(Args())
    (written,) = tmp_path.glob("grading-seed-*.txt")
    assert written.read_text().strip() == seed and len(seed) == 32
    assert oct(written.stat().st_mode & 0o777) == "0o600"


@NEEDS_BWRAP
def test_the_unsafe_mode_is_written_in_the_sheet(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    (folder / "jane.ipynb").write_text(notebook(solution_cells("a1_metrics")))
    (tmp_path / "seed").write_text("s")
    out = tmp_path / "grades.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "grading", "a1_metrics", str(folder), "--seed-file",
               str(tmp_path / "seed"), "--out", str(out), "--unsafe-no-sandbox"]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader(out.open(encoding="utf-8"))
    assert (row["total"], row["mode"]) == ("13.00", "unsafe-no-sandbox"), row["message"]


# ----------------------------------------------------------------------------- Gradescope


def test_the_gradescope_zip_installs_what_grading_needs(tmp_path):
    (tmp_path / "seed").write_text("term-seed")
    gradescope.build("a2_deconvnet", tmp_path / "gs.zip", "term-seed")
    with zipfile.ZipFile(tmp_path / "gs.zip") as zipped:
        names = zipped.namelist()
        setup = zipped.read("setup.sh").decode()
        run = zipped.read("run_autograder").decode()
        seed = zipped.read("seed.txt").decode()
        mode = zipped.getinfo("run_autograder").external_attr >> 16
    assert {"setup.sh", "run_autograder", "grading/runner.py", "course/pyproject.toml"} <= set(
        names
    )
    assert "course/course_utils/metrics.py" in names and seed == "term-seed\n"
    assert "--index-url https://download.pytorch.org/whl/cpu torch==" in setup
    assert "numpy==" in setup and "/autograder/source/course" in setup and "bubblewrap" in setup
    assert "chmod -R go-rwx /autograder/source" in setup, "the seed: root only"
    assert "--assignment a2_deconvnet" in run and mode & 0o111
    first = (tmp_path / "gs.zip").read_bytes()
    gradescope.build("a2_deconvnet", tmp_path / "gs.zip", "term-seed")
    assert (tmp_path / "gs.zip").read_bytes() == first, "reproducible"


@NEEDS_BWRAP
def test_run_autograder_in_gradescopes_layout_gives_full_marks_to_correct_work(tmp_path):
    gradescope.build("a1_metrics", tmp_path / "gs.zip", "term-seed")
    root = tmp_path / "autograder"
    for folder in ("source", "submission", "results"):
        (root / folder).mkdir(parents=True)
    with zipfile.ZipFile(tmp_path / "gs.zip") as zipped:
        zipped.extractall(root / "source")
    (root / "submission" / "a1_metrics.ipynb").write_text(notebook(solution_cells("a1_metrics")))
    (root / "submission" / "notes.txt").write_text("I worked with Sam.")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 13, results
    assert [t["name"] for t in results["tests"]] == ["q1", "q2", "q3", "q4"]
    assert all(t["score"] == t["max_score"] for t in results["tests"])
    assert "a1_metrics.ipynb (bwrap)" in results["output"]


def _nobody_can_run_python() -> bool:
    """As root, can this Python run as nobody? (Not here, where it lives under /root.)"""
    if os.geteuid() != 0:
        return False
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import numpy"], user=65534, group=65534, extra_groups=[],
            capture_output=True,
        )  # fmt: skip
    except PermissionError:
        return False
    return done.returncode == 0


CAN_DROP_TO_NOBODY = _nobody_can_run_python()


@pytest.mark.skipif(not CAN_DROP_TO_NOBODY, reason="needs root and a Python that nobody can run")
def test_gradescope_without_bubblewrap_runs_the_code_as_nobody(tmp_path):
    from grading.grade import grade_submission
    from grading.intake import Submission

    secret = tmp_path / "source"  # like /autograder/source after setup.sh: root only
    secret.mkdir(mode=0o700)
    (secret / "seed.txt").write_text("gradescope-seed")
    thief = (
        "from pathlib import Path\n"
        f"SEED = Path({str(secret / 'seed.txt')!r}).read_text()\n"
        + (ROOT / "tests" / "grading_fixtures" / "a2_solution.py").read_text()
    )
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o711)
    limits = sandbox.Limits(wall_seconds=60, call_seconds=5)
    good = Submission(tmp_path / "good.py", "good", [thief.split("\n", 2)[2]], relative="good.py")
    row = grade_submission(good, "a2_deconvnet", "s", limits, sandbox.CONTAINER, scratch)
    assert (row.total, row.mode) == (7, "container-as-nobody"), row.message
    bad = Submission(tmp_path / "bad.py", "bad", [thief], relative="bad.py")
    row = grade_submission(bad, "a2_deconvnet", "s", limits, sandbox.CONTAINER, scratch)
    assert row.total == 0 and "Permission denied" in row.message, row.message
