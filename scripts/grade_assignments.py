"""Grade a folder of submissions with an assignment's autograder, without containers.

    python scripts/grade_assignments.py a1_metrics submissions/ --seed "spring-2027"
    python scripts/grade_assignments.py a1_metrics submissions/ --timeout 120 --jobs 2

Every ``*.ipynb`` (or otter export ``*.zip``) in the folder is graded on its own by
``otter run`` (otter-grader's local grading: the notebook is executed top to bottom in
a fresh kernel of this environment, then every test, hidden ones included, is run).
A submission that takes longer than ``--timeout`` seconds is stopped (its kernel
too) and scores 0 with a message; one that crashes scores what its tests give, or 0
with a message; neither stops the others. Inside a submission, each call of a
test is limited to ``--test-timeout`` seconds (10), so an endless loop in one of the
student's functions costs the tests that call it, not the whole submission.

The hidden tests draw their inputs from ``--seed`` (or the environment variable
``INSIDE_ILSVRC_GRADING_SEED``): keep it to yourself; the same seed gives the same
grades. Without one, a fresh seed is drawn and printed.

Writes, into ``--out`` (default ``assignments/dist/<name>/grades/``):

* ``grades.csv`` -- one row per submission: a column per question (points), ``total``,
  ``possible``, and ``message`` (why points were lost, or why grading stopped);
* ``<submission>.json`` -- otter's full results for that submission (every test's output).

Run ``python scripts/make_assignments.py`` first: it builds the autograder.
"""

import argparse
import csv
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from course_utils._files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "assignments" / "dist"
SEED_VARIABLE = "INSIDE_ILSVRC_GRADING_SEED"
TEST_SECONDS_VARIABLE = "INSIDE_ILSVRC_TEST_SECONDS"  # read by grading_support.time_limited
#: The most characters of one failing test's error kept in the CSV's message.
MESSAGE_CHARS = 160


def question_points(autograder: Path) -> dict[str, float]:
    """Points of every question in an autograder zip, from its test files (tests/q1.py, ...)."""
    points = {}
    with zipfile.ZipFile(autograder) as zipped:
        for entry in sorted(zipped.namelist()):
            if re.fullmatch(r"tests/\w+\.py", entry):
                text = zipped.read(entry).decode("utf-8")
                cases = re.findall(r"@test_case\(points=([\d.]+)", text)
                points[Path(entry).stem] = sum(float(p) for p in cases)
    return points


def _kill_tree(pid: int) -> None:
    """Kill a process and all its descendants (the Jupyter kernel runs in a session of its own)."""
    try:
        parent = psutil.Process(pid)
        family = [*parent.children(recursive=True), parent]
    except psutil.NoSuchProcess:
        return
    for process in family:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)


def _failures(output: str) -> str:
    """The distinct error lines of a question's output (otter prints 'SomeError: message')."""
    found = []
    for line in output.splitlines():
        line = line.strip()[:MESSAGE_CHARS]
        if line.split(":")[0].endswith(("Error", "Exception")) and line not in found:
            found.append(line)
    return " | ".join(found) or "failed"


def grade_one(
    submission: Path, autograder: Path, out: Path, timeout: float, seed: str, test_timeout: float
) -> dict:
    """Grade one submission; return its CSV row (questions, total, possible, message)."""
    row = {"submission": submission.name}
    env = {**os.environ, SEED_VARIABLE: seed, TEST_SECONDS_VARIABLE: str(test_timeout)}
    otter = Path(sys.executable).with_name("otter")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            str(otter) if otter.exists() else "otter",
            "run", "-a", str(autograder), "-o", tmp, "--no-logo", str(submission),
        ]  # fmt: skip
        start = time.monotonic()
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            log, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(process.pid)
            process.communicate()
            return {**row, "total": 0, "message": f"stopped after {timeout:g} s (an endless loop?)"}
        seconds = time.monotonic() - start
        results = Path(tmp) / "results.json"
        if not results.is_file():
            last = [line for line in log.splitlines() if line.strip()][-1:] or ["no output"]
            return {**row, "total": 0, "message": f"grading failed: {last[0][:MESSAGE_CHARS]}"}
        data = json.loads(results.read_text(encoding="utf-8"))
    with atomic_write(out / f"{submission.stem}.json") as f:
        f.write(json.dumps(data, indent=1))
    questions = [t for t in data["tests"] if "max_score" in t and t.get("name") != "Public Tests"]
    lost = []
    for test in questions:
        row[test["name"]] = test["score"]
        if test["score"] < test["max_score"]:
            lost.append(f"{test['name']}: {_failures(test.get('output', ''))}")
    row["total"] = sum(t["score"] for t in questions)
    row["possible"] = sum(t["max_score"] for t in questions)
    row["message"] = "; ".join(lost) or f"all tests passed ({seconds:.0f} s)"
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", help="e.g. a1_metrics (its autograder: assignments/dist/)")
    parser.add_argument("submissions", type=Path, help="folder of .ipynb (or .zip) submissions")
    parser.add_argument("--out", type=Path, help="where to write grades.csv and the results")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per submission")
    parser.add_argument("--test-timeout", type=float, default=10, help="seconds per test")
    parser.add_argument("--seed", help=f"hidden tests' seed (default: ${SEED_VARIABLE})")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument(
        "--autograder", type=Path, help="autograder zip (default: assignments/dist/<name>/)"
    )
    args = parser.parse_args()
    autograder = args.autograder or DIST / args.assignment / "autograder.zip"
    if not autograder.is_file():
        print(f"error: no autograder at {autograder}; run python scripts/make_assignments.py")
        return 2
    if not args.submissions.is_dir():
        print(f"error: {args.submissions} is not a folder of submissions")
        return 2
    submissions = sorted(
        p for p in args.submissions.iterdir() if p.suffix in (".ipynb", ".zip") and p.is_file()
    )
    if not submissions:
        print(f"error: no .ipynb or .zip files in {args.submissions}")
        return 2
    seed = args.seed or os.environ.get(SEED_VARIABLE)
    if not seed:
        seed = secrets.token_hex(8)
        print(f"No seed given: drew {seed} (pass --seed {seed} to grade the same way again)")
    out = args.out or DIST / args.assignment / "grades"
    out.mkdir(parents=True, exist_ok=True)

    def grade(submission: Path) -> dict:
        row = grade_one(submission, autograder, out, args.timeout, seed, args.test_timeout)
        print(f"{submission.name}: {row['total']:g} points  {row['message']}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        rows = list(pool.map(grade, submissions))
    points = question_points(autograder)
    for row in rows:  # a stopped or failed submission has no scores: 0 on every question
        row.setdefault("possible", sum(points.values()))
        for question in points:
            row.setdefault(question, 0)
    questions = sorted(points, key=lambda q: (len(q), q))  # q1, q2, ..., q10
    with atomic_write(out / "grades.csv", newline="") as f:
        writer = csv.DictWriter(f, ["submission", *questions, "total", "possible", "message"])
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} submission(s) graded: {out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
