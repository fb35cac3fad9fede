"""Exercises with instant feedback, on Colab or a laptop, with no server.

Each exercise has an id (``"timeline-1"``), a question, the form of its answer
and a hint, stored in ``course_utils/_data/exercises.json``. The answer itself
is not stored: only the SHA-256 hash of the id and the normalised answer, so
the feedback is instant but the notebook does not give the answer away.

A number is normalised by rounding to the exercise's ``decimals``; text by
lower-casing and trimming. So for an exercise with ``decimals=1``, 10.9, 10.93
and "10.9" are all accepted.

Instructors add an exercise with::

    python -m course_utils hash timeline-9 42.0 --decimals 1

which prints the hash to put in ``exercises.json``.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from functools import cache
from importlib import resources

__all__ = ["answer_hash", "check", "exercise", "hint", "is_correct"]

KINDS = ("number", "text")


@cache
def _exercises() -> dict[str, dict]:
    text = (resources.files("course_utils") / "_data" / "exercises.json").read_text("utf-8")
    return json.loads(text)


def exercise(exercise_id: str) -> dict:
    """The record of one exercise: question, kind, decimals, hint, hash."""
    exercises = _exercises()
    if exercise_id not in exercises:
        raise ValueError(
            f"exercise_id must be one of the course's exercises "
            f"({', '.join(sorted(exercises))}), got {exercise_id!r}"
        )
    return exercises[exercise_id]


def _normalise(answer, kind: str, decimals: int) -> str:
    if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
    if kind == "number":
        if isinstance(answer, str):
            try:
                answer = float(answer.strip())
            except ValueError:
                raise ValueError(
                    f"answer must be a number (percentages without the % sign), got {answer!r}"
                ) from None
        if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
            raise TypeError(f"answer must be a number, got {type(answer).__name__}")
        if not math.isfinite(answer):
            raise ValueError(f"answer must be a finite number, got {answer!r}")
        rounded = round(float(answer), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
        return f"{rounded:.{decimals}f}"
    if kind == "text":
        if not isinstance(answer, str):
            raise TypeError(f"answer must be text (a str), got {type(answer).__name__}")
        return " ".join(answer.lower().split())
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def answer_hash(exercise_id: str, answer, *, kind: str = "number", decimals: int = 0) -> str:
    """SHA-256 hex digest of ``"<exercise_id>:<normalised answer>"``."""
    normalised = _normalise(answer, kind, decimals)
    return hashlib.sha256(f"{exercise_id}:{normalised}".encode()).hexdigest()


def is_correct(exercise_id: str, answer) -> bool:
    """Whether ``answer`` is right for exercise ``exercise_id`` (for graders and scripts).

    Numbers may be given as int, float or str; percentages without the ``%`` sign
    (``"10.9%"`` is refused rather than guessed at: the exercise says its unit).
    """
    record = exercise(exercise_id)
    if answer is None:
        return False
    kind, decimals = record["kind"], record.get("decimals", 0)
    return answer_hash(exercise_id, answer, kind=kind, decimals=decimals) == record["sha256"]


def check(exercise_id: str, answer) -> None:
    """Print whether ``answer`` is right for exercise ``exercise_id``, with a hint if not.

    What the notebooks' exercise cells call; :func:`is_correct` returns the verdict
    instead. ``None`` (the placeholder in the notebooks) prints a reminder.
    """
    record = exercise(exercise_id)
    if answer is None:
        print(f"{exercise_id}: replace None with your answer, then run the cell again.")
    elif is_correct(exercise_id, answer):
        print(f"Correct! ({exercise_id})")
    else:
        shown = _normalise(answer, record["kind"], record.get("decimals", 0))
        print(f"Not yet ({exercise_id}): {shown} is not the answer. Hint: {record['hint']}")


def hint(exercise_id: str) -> str:
    """The hint of exercise ``exercise_id``."""
    return exercise(exercise_id)["hint"]
