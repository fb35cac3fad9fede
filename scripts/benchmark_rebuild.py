"""How long the book takes to rebuild after an edit, with the execution cache.

    python scripts/benchmark_rebuild.py [--skip-course-utils]

Starts from the build in ``_build/`` (or makes one first). Then, in this working tree, it
times ``jupyter-book build . -W --keep-going``:

1. with nothing changed;
2. after a prose edit in a chapter (a word added to a Markdown cell of chapter 5: the page
   is re-read, its code cells match the cache, nothing is executed);
3. after an edit to ``course_utils`` (a comment added to ``course_utils/plotting.py``: a
   new cache folder, every chapter executed again);
4. back to the original files (the earlier cache folder is used again).

Each edit is undone (the file's bytes restored) before the next step, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from course_utils._files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "05_transposed_convolution.ipynb"
MODULE = ROOT / "course_utils" / "plotting.py"


def build() -> float:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    start = time.perf_counter()
    done = subprocess.run(
        ["jupyter-book", "build", ".", "-W", "--keep-going"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the build failed:\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds


@contextlib.contextmanager
def edited(path: Path, edit) -> Iterator[None]:
    """``path`` changed by ``edit(text) -> text`` for the ``with`` block, then restored."""
    original = path.read_bytes()
    try:
        with atomic_write(path) as f:  # never a half-written chapter, even if interrupted
            f.write(edit(original.decode("utf-8")))
        yield
    finally:
        with atomic_write(path, "wb", encoding=None) as f:
            f.write(original)


def prose_edit(text: str) -> str:
    notebook = json.loads(text)
    cell = next(c for c in notebook["cells"][1:] if c["cell_type"] == "markdown")
    source = cell["source"] if isinstance(cell["source"], list) else [cell["source"]]
    source[-1] = source[-1] + " (Edited.)"
    cell["source"] = source
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-course-utils", action="store_true")
    args = parser.parse_args()
    rows = []
    if not (ROOT / "_build" / "html" / "index.html").is_file():
        rows.append(("first build (every chapter executed)", build()))
    rows.append(("nothing changed", build()))
    with edited(CHAPTER, prose_edit):
        rows.append((f"prose edit in {CHAPTER.name}", build()))
    rows.append(("prose edit undone", build()))
    if not args.skip_course_utils:
        with edited(MODULE, lambda text: text + "\n# (benchmark: a comment)\n"):
            rows.append((f"edit to course_utils/{MODULE.name} (all chapters run)", build()))
        rows.append(("course_utils edit undone (earlier cache used)", build()))
    for what, seconds in rows:
        print(f"{what:55} {seconds:6.1f} s")
    print(f"{os.cpu_count()} CPUs; `jupyter-book build . -W --keep-going` with the execution cache")


if __name__ == "__main__":
    main()
