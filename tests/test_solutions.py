"""book/solutions.md: every exercise has a worked solution, folded away, and each one is right.

Each solution's code is run here as a student would run it, and ``cu.check`` (or
``check_function``) must call it correct: a solution that drifts from the course's
code or data fails here, not in front of a class. The answers themselves are checked
against the hand-worked list in tests/test_checks.py; this file checks the page.
What a reader sees in the browser (nothing of a solution until it is opened) is
tested in tests/test_site.py.
"""

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import course_utils as cu

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "book" / "solutions.md"
EXERCISES = json.loads((ROOT / "course_utils" / "_data" / "exercises.json").read_text("utf-8"))

# Each dropdown is named after its exercise ("Solution to exercise 5.3"), never its answer.
DROPDOWN = re.compile(
    r"^:::\{dropdown\} Solution to exercise \d+\.\d+\n(.*?)^:::$", re.DOTALL | re.MULTILINE
)
CODE = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)
CHECKED_ID = re.compile(r"""(?:cu\.check|check_function)\("([\w-]+)",""")


def solutions() -> dict[str, str]:
    """Exercise id -> the code of its solution (the one python block of its dropdown)."""
    found = {}
    for body in DROPDOWN.findall(PAGE.read_text(encoding="utf-8")):
        blocks = CODE.findall(body)
        assert len(blocks) == 1, f"a solution should hold one python block:\n{body[:300]}"
        ids = CHECKED_ID.findall(blocks[0])
        assert len(ids) == 1, f"a solution's code should check one exercise:\n{blocks[0]}"
        assert ids[0] not in found, f"two solutions for {ids[0]}"
        found[ids[0]] = blocks[0]
    return found


SOLUTIONS = solutions()


def test_every_exercise_has_one_solution():
    missing = sorted(set(EXERCISES) - set(SOLUTIONS))
    unknown = sorted(set(SOLUTIONS) - set(EXERCISES))
    assert not missing, f"book/solutions.md has no solution for {missing}"
    assert not unknown, f"book/solutions.md solves exercises that do not exist: {unknown}"


def test_every_answer_and_every_line_of_code_is_inside_a_dropdown():
    outside = DROPDOWN.sub("", PAGE.read_text(encoding="utf-8"))
    assert "```" not in outside and "**Answer" not in outside, (
        "solution text outside a ':::{dropdown} Solution' block would be visible by default"
    )
    assert ":open:" not in PAGE.read_text(encoding="utf-8")  # folded by default


def test_the_page_is_left_out_of_the_site_search():
    """A search result's excerpt shows the matching text unfolded: Sphinx's 'nosearch'."""
    front_matter = PAGE.read_text(encoding="utf-8").split("---\n")[1]
    assert re.search(r"^nosearch: true$", front_matter, re.MULTILINE)


@pytest.mark.parametrize("exercise_id", sorted(SOLUTIONS))
def test_solution_is_accepted_by_the_checker(exercise_id):
    namespace = {"cu": cu, "np": np, "torch": torch}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(SOLUTIONS[exercise_id], f"solutions.md:{exercise_id}", "exec"), namespace)
    assert f"Correct! ({exercise_id}" in out.getvalue(), out.getvalue()


NOTEBOOK_CHECK = re.compile(r"""cu\.check(?:s\.check_function)?\("([\w-]+)", (\w+)\)""")


def test_the_student_notebooks_hold_no_answers():
    """Each exercise cell of a chapter still hands None to the checker."""
    seen = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for exercise_id, name in NOTEBOOK_CHECK.findall(source):
                seen.add(exercise_id)
                assert name == "None" or re.search(rf"^{name} = None\b", source, re.M), (
                    f"{path.name}: the cell of {exercise_id} gives the checker an answer"
                )
    assert seen == set(EXERCISES), f"exercises no chapter asks: {sorted(set(EXERCISES) - seen)}"
