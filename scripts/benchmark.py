"""Run every benchmark of the course and write the results, with the machine, to one file.

    python scripts/benchmark.py                      # everything (11 min on 2 cores)
    python scripts/benchmark.py --only chapters metrics   # re-runs these, keeps the rest

What it runs, each in its own process, one after the other (so they do not compete):

* ``chapters`` -- every chapter of ``_toc.yml`` executed in a fresh kernel: seconds and
  peak memory against the budgets (``scripts/benchmark_chapters.py``);
* ``build`` -- a clean build of the whole book, as ``.ci/run`` does it, into a
  temporary folder (every chapter executed again, warnings as errors);
* every other ``scripts/benchmark_*.py`` -- each module's speed against its reference
  (metrics against scikit-learn and a per-detection loop, the deconvnet against
  Captum, occlusion against Captum, ...), as each script prints it.

The results go to ``benchmarks/RESULTS.md`` (or ``--out``): the machine's description
(CPU, cores, memory, Python, torch and its threads), the commit, then each section's
table as printed. Commit the file with the change it measures. These are measurements,
not tests: quote them with the machine they came from.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


def machine() -> list[str]:
    """A description of this machine, one fact a line."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    if hasattr(os, "sysconf") and "SC_PHYS_PAGES" in os.sysconf_names:
        memory = f", {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return [
        f"- date: {datetime.date.today().isoformat()}, commit {commit or 'unknown'}",
        f"- CPU: {cpu}, {os.cpu_count()} cores{memory}",
        f"- Python {platform.python_version()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads by default; the chapters use 1)",
    ]


def run(command: list[str], cwd: Path = ROOT) -> tuple[str, float]:
    """Run ``command``; return what it printed and its wall-clock seconds."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    text = done.stdout.strip()
    if done.returncode != 0:
        text += f"\nFAILED (exit {done.returncode}):\n{done.stderr.strip()[-2000:]}"
    return text, seconds


def clean_build() -> tuple[str, float]:
    """Build the book from a copy of the tracked files, as a fresh clone would."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "build"
        command = ["jupyter-book", "build", str(ROOT), "--path-output", str(out)]
        text, seconds = run([*command, "-W", "--keep-going", "--all"])
        status = "ok" if "FAILED" not in text else text.splitlines()[-1]
        return f"clean build of the whole book: {seconds:.0f} s ({status})", seconds


def sections() -> dict[str, list[str] | None]:
    """Name -> command (``None`` for the build, which has its own function)."""
    found: dict[str, list[str] | None] = {
        "chapters": [sys.executable, str(SCRIPTS / "benchmark_chapters.py")],
        "build": None,
    }
    for script in sorted(SCRIPTS.glob("benchmark_*.py")):
        name = script.stem.removeprefix("benchmark_")
        if name != "chapters":
            found[name] = [sys.executable, str(script)]
    return found


def earlier_sections(path: Path) -> dict[str, list[str]]:
    """The sections of an earlier results file, by name (``"chapters"``, ...)."""
    if not path.is_file():
        return {}
    found: dict[str, list[str]] = {}
    name = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            name = line[3:].split(" (", 1)[0]
            found[name] = []
        elif line.startswith("All sections:"):
            name = None
        if name is not None:
            found[name].append(line)
    return found


def main() -> None:
    available = sections()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(available), help="sections to run")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    chosen = args.only or list(available)
    # With --only, the sections not run keep their earlier results (each says when it ran).
    earlier = earlier_sections(args.out)
    kept = earlier if args.only else {}
    stamp = machine()[0].removeprefix("- date: ")
    results: dict[str, list[str]] = {}
    for name in chosen:
        print(f"== {name}", flush=True)
        text, seconds = clean_build() if available[name] is None else run(available[name])
        print(text, flush=True)
        results[name] = [f"## {name} ({seconds:.0f} s; {stamp})", "", "```text", text, "```", ""]
    lines = ["# Benchmark results", "", "`python scripts/benchmark.py` wrote this file.", ""]
    lines += ["## Machine", "", *machine(), ""]
    for name in available:
        lines += results.get(name) or kept.get(name, [])
    # Sections written by hand or by another script (no entry in `sections()`) stay as they are.
    for name, body in earlier.items():
        if name not in available and name != "Machine":
            lines += body
    args.out.parent.mkdir(parents=True, exist_ok=True)
    part = args.out.with_suffix(".part")
    part.write_text("\n".join(lines), encoding="utf-8")
    part.replace(args.out)  # never a half-written results file
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
