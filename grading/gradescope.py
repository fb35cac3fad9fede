"""Gradescope: build the autograder zip, and grade one submission inside Gradescope's container.

    python -m grading.gradescope build a2_deconvnet assignments/dist/a2_deconvnet/gradescope.zip
    python -m grading.gradescope run --root /autograder      # what run_autograder calls

The zip holds ``setup.sh`` (Gradescope runs it once when it builds the image: Python,
bubblewrap, torch for the CPU, numpy and course_utils with its dependencies, in
``/autograder/venv``), ``run_autograder``, the ``grading`` package, ``course_utils``
(the references) and ``seed.txt`` (the hidden inputs' seed: the zip is the instructor's,
never the students'). Grading is the same as :mod:`grading.__main__`'s: the student's
code runs in a separate process that only computes, and this process compares. Inside
Gradescope's container, bubblewrap is used where the container allows it; where it does
not, the student's code runs as the unprivileged user ``nobody``, which cannot read
``/autograder/source`` (the seed, the tests) or write ``/autograder/results``; the mode is
written into the results.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import zipfile
from pathlib import Path

from grading import sandbox
from grading.grade import grade_submission
from grading.intake import collect
from grading.tests import ASSIGNMENTS

ROOT = Path(__file__).resolve().parents[1]
ZIP_DATE = (2020, 1, 1, 0, 0, 0)
#: What setup.sh installs (torch from PyTorch's CPU-only index: no 2 GB of CUDA libraries).
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image.
# Choose the Ubuntu 24.04 base image (Python 3.12; course_utils needs Python 3.11+).
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip bubblewrap
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --index-url {index} torch=={torch} torchvision=={torchvision}
/autograder/venv/bin/pip install -q numpy=={numpy} /autograder/source/course
# The seed and the tests: readable by root only (the student's code runs as nobody
# where bubblewrap is not allowed in the container).
chmod -R go-rwx /autograder/source
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; AUTOGRADER_ROOT and AUTOGRADER_PYTHON let
# tests run it in a scratch folder with Gradescope's layout.
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
cd "$ROOT/source" && PYTHONPATH="$ROOT/source" exec "$PYTHON" -m grading.gradescope run \\
  --assignment {assignment} --root "$ROOT"
"""


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        name, _, version = line.split("#")[0].strip().partition("==")
        if version:
            pins[name] = version.strip()
    return pins


def build(assignment: str, target: Path, seed: str) -> None:
    """Write the Gradescope autograder zip of ``assignment`` to ``target`` (reproducible)."""
    pins = _pins()
    files: dict[str, tuple[bytes, int]] = {
        "setup.sh": (SETUP.format(index=TORCH_INDEX, torch=pins["torch"],
                                  torchvision=pins["torchvision"], numpy=pins["numpy"]).encode(), 0o755),
        "run_autograder": (RUN.format(assignment=assignment).encode(), 0o755),
        "seed.txt": (seed.encode() + b"\n", 0o600),
    }  # fmt: skip
    for path in sorted((ROOT / "grading").glob("*.py")):
        files[f"grading/{path.name}"] = (path.read_bytes(), 0o644)
    files["course/pyproject.toml"] = ((ROOT / "pyproject.toml").read_bytes(), 0o644)
    for path in sorted((ROOT / "course_utils").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[f"course/{path.relative_to(ROOT).as_posix()}"] = (path.read_bytes(), 0o644)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name in sorted(files):
            data, mode = files[name]
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(info, data)
    os.replace(temporary, target)


def run(assignment: str, root: Path) -> dict:
    """Grade ``root/submission`` and write ``root/results/results.json`` (Gradescope's format)."""
    seed = (root / "source" / "seed.txt").read_text(encoding="utf-8").strip()
    mode = sandbox.SANDBOX if sandbox.check_bwrap() is None else sandbox.CONTAINER
    limits = sandbox.Limits()
    scratch = root / "grading-scratch"
    scratch.mkdir(mode=0o711, exist_ok=True)
    hand_ins = collect(root / "submission")
    readable = [s for s in hand_ins if not s.problem]
    # several files: the notebook if there is one, else the first Python file
    readable.sort(key=lambda s: (s.kind != "notebook", s.relative))
    points = {}
    for test in ASSIGNMENTS[assignment]:
        points[test.question] = points.get(test.question, 0) + test.points
    if readable:
        row = grade_submission(readable[0], assignment, seed, limits, mode, scratch)
        scores, message = row.scores, row.message
        note = f"graded {readable[0].relative} ({mode})"
    else:
        scores = dict.fromkeys(points, 0.0)
        found = "; ".join(f"{s.relative}: {s.problem}" for s in hand_ins) or "no files"
        message, note = f"no notebook or Python file to grade ({found})", "not run"
    tests = []
    for question, possible in points.items():
        lost = [part for part in message.split("; ") if part.startswith(f"{question} ")]
        tests.append({
            "name": question,
            "score": scores[question],
            "max_score": possible,
            "output": "; ".join(lost) or ("all tests passed" if scores[question] == possible else message),
        })  # fmt: skip
    results = {"tests": tests, "output": note, "score": sum(scores.values())}
    out = root / "results"
    out.mkdir(parents=True, exist_ok=True)
    temporary = out / ".results.json.tmp"
    temporary.write_text(json.dumps(results, indent=1), encoding="utf-8")
    os.replace(temporary, out / "results.json")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("build", help="write an autograder zip")
    make.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    make.add_argument("target", type=Path)
    make.add_argument("--seed-file", type=Path, required=True, help="the hidden inputs' seed")
    grade = commands.add_parser("run", help="grade ROOT/submission (inside Gradescope)")
    grade.add_argument("--assignment", choices=sorted(ASSIGNMENTS), required=True)
    grade.add_argument("--root", type=Path, default=Path("/autograder"))
    args = parser.parse_args(argv)
    if args.command == "build":
        build(args.assignment, args.target, args.seed_file.read_text(encoding="utf-8").strip())
        print(f"{args.target}: upload it as the assignment's autograder (Ubuntu 24.04 base image)")
    else:
        results = run(args.assignment, args.root)
        print(f"{results['score']:g} points ({results['output']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
