"""Grade a folder of submissions in a sandbox: ``python -m grading ASSIGNMENT FOLDER``.

    python -m grading a1_metrics submissions/ --seed-file ~/grading-seed.txt
    python -m grading a2_deconvnet canvas_download/ --lms canvas --jobs 2
    python -m grading a3_receptive_field moodle_download/ --lms moodle --out grades.csv

Every file under FOLDER gets one row of the grades CSV (student_id, submission, a
column per question, total, possible, mode, message). The hidden tests' inputs come
from the seed: ``--seed-file`` (a file only you can read) or the environment variable
INSIDE_ILSVRC_GRADING_SEED; never on the command line, where ``ps`` shows it to every
user of the machine. Without either, a fresh seed is drawn and written to a file.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

from grading import sandbox
from grading.grade import grade_all, write_csv
from grading.intake import ID_PATTERNS, collect
from grading.tests import ASSIGNMENTS

SEED_VARIABLE = "INSIDE_ILSVRC_GRADING_SEED"


def _seed(args) -> str:
    if args.seed_file:
        return args.seed_file.read_text(encoding="utf-8").strip()
    if os.environ.get(SEED_VARIABLE):
        return os.environ[SEED_VARIABLE]
    seed = secrets.token_hex(16)
    path = Path(f"grading-seed-{time.strftime('%Y%m%d-%H%M%S')}.txt")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as f:
        f.write(seed + "\n")
    print(
        f"No seed given: drew one and wrote it to {path} (--seed-file {path} grades the same way)"
    )
    return seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grading", description=__doc__.splitlines()[0])
    parser.add_argument("assignment", choices=sorted(ASSIGNMENTS))
    parser.add_argument("submissions", type=Path, help="folder of hand-ins (subfolders too)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="the grades CSV")
    parser.add_argument("--seed-file", type=Path, help="a file holding the grading seed")
    parser.add_argument(
        "--lms",
        metavar="PATTERN",
        help=f"student ids from file names: {' or '.join(ID_PATTERNS)}, or a regular expression"
        " with a group named id (default: the file name)",
    )
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    parser.add_argument("--timeout", type=float, default=120, help="wall-clock s per submission")
    parser.add_argument("--call-timeout", type=float, default=10, help="s per function call")
    parser.add_argument("--memory-mb", type=int, default=2048, help="heap MB per process")
    parser.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without bubblewrap: the student's code can then read and change anything"
        " your user can (only for code you trust)",
    )
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"submissions: {args.submissions} is not a folder")
    mode = sandbox.SANDBOX
    reason = sandbox.check_bwrap()
    if reason and not args.unsafe_no_sandbox:
        print(f"error: {reason}.\nRefusing to run student code without a sandbox; "
              "--unsafe-no-sandbox grades anyway, at your own risk.", file=sys.stderr)  # fmt: skip
        return 2
    if args.unsafe_no_sandbox:
        mode = sandbox.UNSAFE
        print("warning: grading WITHOUT a sandbox (--unsafe-no-sandbox)", file=sys.stderr)
    seed = _seed(args)
    submissions = collect(args.submissions, args.lms)
    if not submissions:
        parser.error(f"submissions: no files in {args.submissions}")
    limits = sandbox.Limits(
        wall_seconds=args.timeout,
        cpu_seconds=int(args.timeout) + 1,
        data_bytes=args.memory_mb * sandbox.MiB,
        call_seconds=args.call_timeout,
        load_seconds=min(20.0, args.timeout / 3),
    )

    def show(row) -> None:
        print(f"{row.student} ({row.submission}): {row.total:g}/{row.possible:g}  {row.message}")

    rows = grade_all(submissions, args.assignment, seed, limits, mode, args.jobs, show)
    write_csv(rows, args.assignment, args.out)
    print(f"{len(rows)} hand-in(s), {len(rows)} row(s): {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
