"""Time every chapter and measure its peak memory, against the course's budgets.

    python scripts/benchmark_chapters.py [notebooks/NN_name.ipynb ...]

Executes each notebook listed in _toc.yml (or those given) in a fresh kernel,
one at a time, the way the book build does, and prints a table: wall-clock
seconds and the kernel's peak resident memory (MB), with the budgets of the
course (60 s and 2 GB on a 2-core CPU). This is a measurement, not a test:
numbers depend on the machine, so quote them with the machine they came from.
"""

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from sphinx_external_toc.parsing import parse_toc_yaml

ROOT = Path(__file__).resolve().parents[1]
BUDGET_SECONDS = 60
BUDGET_MB = 2048

# Runs in its own process, so that the kernel it starts is its only child and
# getrusage(RUSAGE_CHILDREN) reports that kernel's peak memory (kB on Linux).
_RUN_ONE = """
import resource, sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, resources={"metadata": {"path": sys.argv[2]}}).execute()
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def chapters() -> list[Path]:
    pages = parse_toc_yaml(ROOT / "_toc.yml")  # the parser Jupyter Book itself uses
    return [ROOT / f"{p}.ipynb" for p in pages if (ROOT / f"{p}.ipynb").is_file()]


def measure(path: Path) -> tuple[float, float]:
    """(seconds, peak MB) of executing ``path`` in a child process and its kernel."""
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", _RUN_ONE, str(path), str(path.parent)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    return seconds, int(run.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    paths = [p.resolve() for p in parser.parse_args().notebooks] or chapters()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"{'chapter':<32} {'seconds':>8} {'peak MB':>8}  within budget")
    for path in paths:
        seconds, peak_mb = measure(path)
        ok = seconds < BUDGET_SECONDS and peak_mb < BUDGET_MB
        print(f"{path.stem:<32} {seconds:8.1f} {peak_mb:8.0f}  {'yes' if ok else 'NO'}")
    print("seconds include starting the kernel; peak MB is the kernel's peak resident memory.")


if __name__ == "__main__":
    main()
