"""Generate the graded assignments from their instructor sources (otter-grader's otter assign).

    python scripts/make_assignments.py            # all of assignments/source/*.ipynb
    python scripts/make_assignments.py a1_metrics # one assignment
    python scripts/make_assignments.py --check    # exit 1 if assignments/student/ is stale

For each source notebook ``assignments/source/<name>.ipynb`` (otter assign format:
questions, solutions, public and hidden tests), ``otter assign`` runs every test against
the solutions, then this script writes:

* ``assignments/student/<name>/`` -- committed, what students get: ``<name>.ipynb``
  without solutions, with a first cell that (on Colab only) installs otter-grader and
  fetches the public tests, and ``tests/`` with the **public** tests only;
* ``assignments/dist/<name>/`` -- git-ignored, the instructor's: ``<name>-solution.ipynb``
  (the reference submission, with solutions).

The source notebooks hold the public tests only: the hidden tests live in the trusted
grader (``grading/tests.py``), which runs students' code in a sandbox
(``python -m grading``; for Gradescope, ``python -m grading.gradescope build``).

Reproducible: the same sources give byte-identical student files (otter's random cell
ids are renumbered).
The repository URL in the Colab cell comes from _config.yml, as in the chapters.
"""

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "assignments" / "source"
STUDENT = ROOT / "assignments" / "student"
DIST = ROOT / "assignments" / "dist"
#: otter-grader version the student notebooks install on Colab; keep equal to requirements.txt.
OTTER_VERSION = "7.0.0"
SETUP_TAG = "colab-setup"

sys.path.insert(0, str(ROOT / "scripts"))
from sync_repository_url import owner_and_name, repository  # noqa: E402


def setup_cell_source(name: str, questions: list[str]) -> str:
    """The first cell of a student notebook: on Colab only, otter-grader and the public tests."""
    _, branch = repository()
    tests = (
        f"https://raw.githubusercontent.com/{owner_and_name()}/{branch}"
        f"/assignments/student/{name}/tests"
    )
    return (
        "# On Google Colab only: install otter-grader (it runs the tests) and fetch this\n"
        "# assignment's public tests from the course repository. Elsewhere, open this\n"
        "# notebook from its folder, next to tests/ (see the README).\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import subprocess\n"
        "    import urllib.request\n"
        "    from pathlib import Path\n"
        "\n"
        f'    TESTS = "{tests}"\n'
        "    subprocess.run(\n"
        f'        [sys.executable, "-m", "pip", "install", "-q", "otter-grader=={OTTER_VERSION}"],\n'
        "        check=True,\n"
        "    )\n"
        '    Path("tests").mkdir(exist_ok=True)\n'
        f"    for question in {questions!r}:\n"
        '        urllib.request.urlretrieve(f"{TESTS}/{question}.py", f"tests/{question}.py")'
    )


def _normalised(notebook: dict, name: str, questions: list[str]) -> dict:
    """The student notebook with the Colab cell first and deterministic cell ids."""
    setup = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": [SETUP_TAG]},
        "outputs": [],
        "source": setup_cell_source(name, questions),
    }
    cells = [setup, *notebook["cells"]]
    for cell in cells:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    # otter's init cell names the notebook file, which Colab does not have: otter then
    # fails to read it. Without a name, otter finds the file where there is one.
    init = f'grader = otter.Notebook("{name}.ipynb")'
    (cell,) = [c for c in cells if init in c["source"]]
    cell["source"] = cell["source"].replace(init, "grader = otter.Notebook()  # tests in tests/")
    for index, cell in enumerate(cells):
        cell["id"] = f"{name}-{index:02d}".replace("_", "-")
        if cell["cell_type"] == "code":
            cell["execution_count"], cell["outputs"] = None, []
    notebook["cells"] = cells
    return notebook


def otter_assign(source: Path, out: Path) -> None:
    """Run otter assign on ``source`` into ``out`` (tests are run against the solutions)."""
    command = ["otter", "assign", "--no-pdfs", source.name, str(out)]
    otter = Path(sys.executable).with_name("otter")
    command[0] = str(otter) if otter.exists() else "otter"
    done = subprocess.run(command, cwd=source.parent, capture_output=True, text=True)
    errors = [
        line for line in done.stderr.splitlines() if "WARNING | Kernel is running" not in line
    ]
    if done.returncode != 0:
        raise SystemExit(f"otter assign failed for {source.name}:\n" + "\n".join(errors))


def build(name: str, student_dir: Path, dist_dir: Path) -> None:
    """Generate one assignment: student files into ``student_dir``, instructor's into ``dist_dir``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        otter_assign(SOURCE / f"{name}.ipynb", out)
        tests = sorted((out / "student" / "tests").glob("*.py"))
        questions = [test.stem for test in tests]
        notebook = json.loads((out / "student" / f"{name}.ipynb").read_text(encoding="utf-8"))
        notebook = _normalised(notebook, name, questions)

        staged = {d: d.parent / f".{d.name}.new" for d in (student_dir, dist_dir)}
        for folder in staged.values():  # left over from a run that was interrupted: ours
            shutil.rmtree(folder, ignore_errors=True)
        new = staged[student_dir]
        (new / "tests").mkdir(parents=True)
        text = json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        (new / f"{name}.ipynb").write_text(text, encoding="utf-8")
        for test in tests:
            shutil.copyfile(test, new / "tests" / test.name)
        new = staged[dist_dir]
        new.mkdir(parents=True)
        shutil.copyfile(out / "autograder" / f"{name}.ipynb", new / f"{name}-solution.ipynb")
        for target, new in staged.items():
            _replace_folder(new, target, name)


def _written_here(relative: Path, name: str) -> bool:
    """Whether this script writes files at ``relative`` (or pytest does, running the tests)."""
    parts = relative.parts
    if len(parts) == 1:
        return parts[0] in (f"{name}.ipynb", f"{name}-solution.ipynb")
    return parts[0] == "tests" and (parts[-1].endswith(".py") or "__pycache__" in parts)


def _replace_folder(new: Path, target: Path, name: str) -> None:
    """Put the complete folder ``new`` in place of ``target``; never delete a file not ours."""
    if target.exists():
        foreign = [
            p
            for p in target.rglob("*")
            if p.is_file() and not _written_here(p.relative_to(target), name)
        ]
        if foreign:
            shutil.rmtree(new)
            raise SystemExit(
                f"{target} holds files this script did not write ({', '.join(map(str, foreign))}): "
                "move them elsewhere and run it again; nothing was changed"
            )
        old = target.parent / f".{target.name}.old"
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        new.rename(target)


def _same_tree(a: Path, b: Path) -> list[str]:
    """Files that differ between two folders (relative paths), missing ones included."""
    names = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names |= {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    return sorted(
        str(n)
        for n in names
        if not (
            (a / n).is_file() and (b / n).is_file() and filecmp.cmp(a / n, b / n, shallow=False)
        )
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to build (default: all)")
    parser.add_argument(
        "--check", action="store_true", help="only check that assignments/student/ is up to date"
    )
    args = parser.parse_args()
    available = sorted(p.stem for p in SOURCE.glob("*.ipynb"))
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        print(f"error: no source notebook for {', '.join(unknown)} (have: {', '.join(available)})")
        return 2
    stale = []
    for name in args.names or available:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                build(name, Path(tmp) / "student", Path(tmp) / "dist")
                stale += [f"{name}/{f}" for f in _same_tree(Path(tmp) / "student", STUDENT / name)]
        else:
            build(name, STUDENT / name, DIST / name)
            print(f"{name}: assignments/student/{name}/ and assignments/dist/{name}/")
    if args.check:
        if stale:
            print(
                "assignments/student/ is out of date (run python scripts/make_assignments.py): "
                + ", ".join(stale)
            )
            return 1
        print("assignments/student/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
