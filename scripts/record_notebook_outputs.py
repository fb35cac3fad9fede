"""Record the expected outputs of the notebooks' output-checked cells.

    python scripts/record_notebook_outputs.py notebooks/01_timeline.ipynb [...]

Executes each notebook (in its own folder, like the book build and nbval do)
and writes the outputs of its checked cells (code cells tagged ``nbval-check-output``,
the tag nbval reads; readers never see it) to tests/notebook_outputs/<name>.json,
keyed by cell id. nbval compares against these (see conftest.py). Rerun it only
when a checked cell's output changes on purpose, and review the diff.
"""

import argparse
import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course_utils._files import atomic_write

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "notebook_outputs"
CHECK_TAG = "nbval-check-output"  # the one definition; conftest.py and the tests import it


def is_checked(cell) -> bool:
    """Whether nbval compares this cell's output with the recorded one."""
    return cell["cell_type"] == "code" and CHECK_TAG in cell.get("metadata", {}).get("tags", [])


def record(path: Path) -> Path:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    recorded = {
        cell["id"]: [_clean(o) for o in cell["outputs"]]
        for cell in notebook.cells
        if is_checked(cell)
    }
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"{path.stem}.json"
    with atomic_write(target) as f:  # a temporary file, renamed when complete
        json.dump(recorded, f, indent=1, ensure_ascii=False, sort_keys=True)
        f.write("\n")
    return target


def _clean(output: dict) -> dict:
    output = dict(output)
    output.pop("execution_count", None)
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args().notebooks:
        print(f"recorded {record(path.resolve()).relative_to(ROOT)}")


if __name__ == "__main__":
    main()
