"""Time the trusted grader on many copies of one assignment's submission (this machine).

    python scripts/benchmark_grading.py --count 30 --jobs 1 2

Grades ``--count`` correct hand-ins of assignment 2 (``tests/grading_fixtures``), plus
one that loops forever, once per value of ``--jobs``, in the bubblewrap sandbox, and
prints a Markdown table for ``benchmarks/RESULTS.md``: seconds per submission (wall
clock of the whole run divided by the hand-ins), the looping one's cost, and the peak
memory (RSS) of one sandboxed process.
"""

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grading import sandbox  # noqa: E402
from grading.grade import grade_all  # noqa: E402
from grading.intake import collect  # noqa: E402

LOOP = "def unpool(pooled, switches, output_size):\n    while True:\n        pass\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30, help="correct hand-ins graded")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--timeout", type=float, default=60, help="wall-clock limit per hand-in")
    args = parser.parse_args()
    if reason := sandbox.check_bwrap():
        print(f"error: {reason}")
        return 2
    solution = (ROOT / "tests" / "grading_fixtures" / "a2_solution.py").read_text()
    limits = sandbox.Limits(wall_seconds=args.timeout, cpu_seconds=int(args.timeout) + 1)
    lines = [
        f"Grading assignment 2 ({platform.processor() or platform.machine()},"
        f" {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start):",
        "",
        "| jobs | hand-ins | wall clock (s) | s per hand-in | the endless loop (s) | peak RSS of one sandbox (MB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            for index in range(args.count):
                (folder / f"student{index:04d}.py").write_text(solution)
            (folder / "zz_loop.py").write_text(LOOP)
            submissions = collect(folder)
            start = time.monotonic()
            rows = grade_all(
                submissions, "a2_deconvnet", "benchmark", limits, sandbox.SANDBOX, jobs
            )
            wall = time.monotonic() - start
        good = [r for r in rows if r.submission != "zz_loop.py"]
        assert all(r.total == 7 for r in good), [r.message for r in good if r.total != 7]
        (loop,) = [r for r in rows if r.submission == "zz_loop.py"]
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        lines.append(
            f"| {jobs} | {len(rows)} | {wall:.0f} | {wall / len(rows):.2f} | {loop.seconds:.0f}"
            f" | {rss:.0f} |"
        )
        print(lines[-1], flush=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
