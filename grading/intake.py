"""Find every hand-in of a submissions folder and read its code, whatever its form.

Each file under the folder (subfolders included, as Moodle downloads them) becomes one
:class:`Submission`, and so one row of the grades: nothing is skipped. The content
decides how it is read, not the name:

* a notebook (JSON with ``cells``): its code cells, whatever the kernelspec is called
  and whether or not otter's metadata is there (``.ipynb``, ``.ipynb.txt``, ...);
* Python source (``.py``, ``.txt``, ...): the whole file as one cell;
* a zip (otter's export, a zipped folder): the one notebook (or else the one ``.py``) inside;
* anything else (a PDF, an empty file, a notebook of another language): a row with
  0 points and a message saying why.

The student's identifier comes from the file's path by a regular expression with a
group named ``id`` (:data:`ID_PATTERNS` has those of Canvas and Moodle downloads);
without a pattern, or where it does not match, it is the file's name without its suffixes.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

#: The largest hand-in read (bytes): a notebook with its outputs is well under this.
MAX_BYTES = 20 << 20
#: Regular expressions (group ``id``) of the file names LMS downloads give, matched on the
#: path relative to the submissions folder.
ID_PATTERNS = {
    # Canvas, "Download Submissions": lastnamefirstname[_LATE]_<user id>_<submission id>_<file>
    "canvas": r"^[^_/]+(?:_LATE)?_(?P<id>\d+)_\d+_",
    # Moodle, "Download all submissions": "<Full Name>_<participant id>_assignsubmission_file_"
    # as a folder (or a prefix of the file name when "in folders" is off)
    "moodle": r"^[^/]*?_(?P<id>\d+)_assignsubmission_file_",
}
_SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}


@dataclass
class Submission:
    """One hand-in: where it is, whose it is, its code cells, or why there is no code."""

    path: Path
    student: str
    cells: list[str] = field(default_factory=list)
    problem: str | None = None  # why it cannot be graded (then it scores 0)
    kind: str = ""
    relative: str = ""  # the path inside the submissions folder, as the grades show it


def student_id(relative: str, pattern: str | None) -> str:
    """The student identifier of the file at ``relative`` (a path inside the folder)."""
    if pattern:
        match = re.search(ID_PATTERNS.get(pattern, pattern), relative)
        if match and match.groupdict().get("id"):
            return match.group("id")
    name = Path(relative).name
    return name.split(".")[0] or name


def _strip_magics(source: str) -> str:
    """A cell without IPython's ``%magic`` and ``!shell`` lines (plain Python cannot run them)."""
    lines = source.splitlines()
    if lines and lines[0].startswith("%%"):
        return ""  # a cell magic (%%time, %%bash): the whole cell is not Python
    return "\n".join(
        "pass  # " + line if line.lstrip().startswith(("%", "!")) else line for line in lines
    )


def _from_notebook(data: dict) -> tuple[list[str], str | None]:
    language = (
        data.get("metadata", {}).get("kernelspec", {}).get("language")
        or data.get("metadata", {}).get("language_info", {}).get("name")
        or "python"
    )
    if str(language).lower() != "python":
        return [], f"a notebook in {language}, not Python"
    cells = []
    for cell in data.get("cells", []):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append(
                _strip_magics("".join(source) if isinstance(source, list) else str(source))
            )
    if not cells:
        return [], "a notebook without code cells"
    return cells, None


def read_code(name: str, data: bytes) -> tuple[list[str], str | None, str]:
    """``(cells, problem, kind)`` of a hand-in's bytes: its code, or why there is none."""
    if len(data) > MAX_BYTES:
        return [], f"larger than {MAX_BYTES >> 20} MB", "too large"
    if data[:4] == b"PK\x03\x04":
        return _from_zip(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], "neither a notebook nor Python source (not UTF-8 text)", "binary"
    if not text.strip():
        return [], "an empty file", "empty"
    try:
        notebook = json.loads(text)
    except ValueError:
        notebook = None
    if isinstance(notebook, dict) and "cells" in notebook:
        cells, problem = _from_notebook(notebook)
        return cells, problem, "notebook"
    try:
        compile(text, name, "exec")
    except (SyntaxError, ValueError) as error:
        return [], f"neither a notebook nor Python source ({type(error).__name__})", "unreadable"
    return [text], None, "python"


def _from_zip(data: bytes) -> tuple[list[str], str | None, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zipped:
            entries = [
                info
                for info in zipped.infolist()
                if not info.is_dir()
                and "__MACOSX" not in info.filename
                and Path(info.filename).name not in _SKIPPED_NAMES
            ]
            for suffix in (".ipynb", ".py"):
                found = [e for e in entries if e.filename.endswith(suffix)]
                if len(found) == 1:
                    if found[0].file_size > MAX_BYTES:
                        return [], f"{found[0].filename} in the zip is too large", "zip"
                    cells, problem, _ = read_code(found[0].filename, zipped.read(found[0]))
                    return cells, problem, f"zip ({found[0].filename})"
                if len(found) > 1:
                    names = ", ".join(e.filename for e in found[:5])
                    return [], f"a zip with several {suffix} files ({names}): which one?", "zip"
    except (zipfile.BadZipFile, OSError, RuntimeError) as error:
        return [], f"an unreadable zip ({error})", "zip"
    return [], "a zip without a notebook or .py file", "zip"


def collect(folder: Path, pattern: str | None = None) -> list[Submission]:
    """Every hand-in under ``folder``, sorted by path, each read (see the module's docstring)."""
    submissions = []
    for path in sorted(p for p in folder.rglob("*") if p.is_symlink() or p.is_file()):
        if path.name in _SKIPPED_NAMES:
            continue
        relative = path.relative_to(folder).as_posix()
        who = student_id(relative, pattern)
        if path.is_symlink():  # never followed: it could point at another student's work
            submissions.append(Submission(path, who, [], "a link, not a file", "link", relative))
            continue
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
        cells, problem, kind = read_code(path.name, data)
        submissions.append(Submission(path, who, cells, problem, kind, relative))
    return submissions
