"""Exercises with instant feedback, on Colab or a laptop, with no server.

Each exercise has an id (``"timeline-1"``), a question, the kind of its answer
and a hint, stored in ``course_utils/_data/exercises.json``. The answer itself
is not stored, only SHA-256 hashes of ``"<id>:<answer>"``, so the feedback is
instant but the notebook does not print the answer.

Kinds of answer:

* ``"number"`` with ``decimals`` d: the answer written with d decimals, e.g.
  ``10.9`` for d = 1. The record also holds the hashes of the answer written
  with d + 1, d + 2 and d + 3 decimals (``sha256_more``).
* ``"integer"``: a whole number (a count, a year). ``54.25`` is not ``54``.
* ``"text"``: compared after lower-casing and collapsing spaces.
* ``"function"``: the student writes a function; :func:`check_function` tests
  it against the course's own implementation on fresh random inputs.

The rule for numbers, which never calls a wrong answer right:

* an answer with k >= d decimals is compared with the true answer written with
  k decimals (at most d + 3): ``10.9`` and ``10.90`` are right for 10.9, ``10.95``
  is not, and a full-precision float such as ``26.2 - 15.3`` is compared at
  d + 3 decimals;
* an answer with fewer than d decimals is right only if it is exactly the answer
  (``0.5`` for 0.50, not for 0.504);
* numbers may be an ``int``, a ``float``, a string such as ``"10.9"``, or a
  one-element NumPy array or torch tensor (what ``box_iou`` returns).

A record may say ``"unit": "fraction"``: then 33 (or ``"33%"``) gets the hint that a
fraction between 0 and 1 is expected, written from the student's own number (0.33).
Typing slips (``"10,9"``, ``"153,856"``, ``"10.9%"``) get a message saying how to
write the number, not an error.

Instructors add an exercise with ``python -m course_utils add``, which checks
the record and writes the hashes; ``check`` tries an answer as a student would and
``validate`` checks every record (``python -m course_utils --help``; the book's
instructor guide walks through it).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import numbers
import re
import secrets
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from importlib import resources

import numpy as np
import torch

from . import _validate, metrics, normalization

__all__ = [
    "EXTRA_DECIMALS",
    "KINDS",
    "answer_hash",
    "check",
    "check_function",
    "exercise",
    "feedback",
    "feedback_for_record",
    "hint",
    "record_hashes",
    "record_problems",
]

KINDS = ("number", "integer", "text", "function")
EXTRA_DECIMALS = 3  # hashes stored beyond the record's decimals: answers given more precisely
UNITS = ("fraction",)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@cache
def _exercises() -> dict[str, dict]:
    text = (resources.files("course_utils") / "_data" / "exercises.json").read_text("utf-8")
    return json.loads(text)


def exercise(exercise_id: str) -> dict:
    """The record of one exercise: question, kind, decimals, hint, hashes.

    A copy: changing it changes no later verdict.
    """
    _validate.text(exercise_id, "exercise_id")
    exercises = _exercises()
    if exercise_id not in exercises:
        raise ValueError(
            f"exercise_id must be one of the course's exercises "
            f"({', '.join(sorted(exercises))}), got {exercise_id!r}"
        )
    return copy.deepcopy(exercises[exercise_id])


def hint(exercise_id: str) -> str:
    """The hint of exercise ``exercise_id``."""
    return exercise(exercise_id)["hint"]


def record_problems(exercise_id: str, record) -> list[str]:
    """What is wrong with one record of ``exercises.json``; an empty list if nothing.

    A record needs ``question``, ``kind`` and ``hint`` (non-empty text); a number also
    ``decimals``; a number or an integer ``sha256`` and ``EXTRA_DECIMALS`` hashes in
    ``sha256_more``; a text ``sha256``; a function an entry in this module's tests.
    Whether the hashes belong to the right answer cannot be seen from the record:
    ``tests/test_checks.py`` checks that with the answer worked out by hand.
    """
    _validate.text(exercise_id, "exercise_id")
    if not isinstance(record, dict):
        return [f"{exercise_id}: the record must be a JSON object, got {type(record).__name__}"]
    problems = []
    kind = record.get("kind")
    if kind not in KINDS:
        problems.append(f"{exercise_id}: kind must be one of {KINDS}, got {kind!r}")
    for field in ("question", "hint"):
        if not isinstance(record.get(field), str) or not record[field].strip():
            problems.append(f"{exercise_id}: {field} must be non-empty text")
    allowed = {"question", "kind", "hint"}
    if kind == "number":
        allowed |= {"decimals", "unit", "sha256", "sha256_more"}
        decimals = record.get("decimals")
        if isinstance(decimals, bool) or not isinstance(decimals, int) or decimals < 0:
            problems.append(f"{exercise_id}: decimals must be an int >= 0, got {decimals!r}")
        if record.get("unit", "fraction") not in UNITS:
            problems.append(f"{exercise_id}: unit must be one of {UNITS}, got {record['unit']!r}")
    elif kind in ("integer", "text"):
        allowed |= {"sha256", "sha256_more"} if kind == "integer" else {"sha256"}
    elif kind == "function" and exercise_id not in _FUNCTION_TESTS:
        problems.append(
            f"{exercise_id}: a function exercise needs a reference and random cases in "
            "course_utils/checks.py (_FUNCTION_TESTS)"
        )
    if kind in ("number", "integer", "text"):
        hashes = [record.get("sha256")]
        if kind != "text":
            more = record.get("sha256_more")
            if not isinstance(more, list) or len(more) != EXTRA_DECIMALS:
                problems.append(f"{exercise_id}: sha256_more must list {EXTRA_DECIMALS} hashes")
            else:
                hashes += more
        if not all(isinstance(h, str) and _SHA256.fullmatch(h) for h in hashes):
            problems.append(f"{exercise_id}: each hash must be 64 lower-case hex digits")
    extra = sorted(set(record) - allowed)
    if extra and kind in KINDS:
        problems.append(f"{exercise_id}: fields {extra} do not belong in a {kind} record")
    return problems


# --- reading a student's number ---------------------------------------------------------

# Possessive (++, *+) so that a long almost-number fails in linear time: with r"\d+\.?\d*",
# 10,000 digits and a letter took 9 s (every split of the digits between \d+ and \d*).
_PLAIN = re.compile(r"[+-]?(?:\d++(?:\.\d*+)?|\.\d++)(?:[eE][+-]?\d++)?")
#: The longest typed answer read (characters): a number the course asks for is far shorter.
MAX_TYPED = 100
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")


def _parse_number(answer) -> Decimal:
    """``answer`` as an exact ``Decimal``, keeping the decimals it was given with.

    Accepts ``int``, ``float`` (read as its shortest repr: ``0.1`` is ``Decimal("0.1")``),
    NumPy numbers, strings such as ``"10.9"``, and one-element arrays or tensors.
    Raises ``ValueError`` or ``TypeError`` with a message a student can act on.
    """
    value = _to_decimal(answer)
    if not value.is_finite() or value.copy_abs() >= Decimal("1e15"):
        raise ValueError(f"answer must be a finite number below 10**15, got {value}")
    return value


def _to_decimal(answer) -> Decimal:
    if isinstance(answer, Decimal):
        return answer
    if isinstance(answer, torch.Tensor):
        answer = answer.detach().cpu().numpy()
    if isinstance(answer, np.ndarray):
        if answer.size != 1:
            raise ValueError(
                f"answer holds {answer.size} numbers (shape {answer.shape}): give one number"
            )
        answer = answer.reshape(-1)[0]
    if isinstance(answer, bool | np.bool_):
        raise TypeError(f"answer must be a number, got {answer!r}")
    if isinstance(answer, str):
        return _parse_text(answer)
    if isinstance(answer, numbers.Integral):
        return Decimal(int(answer))
    if isinstance(answer, numbers.Real):
        if not math.isfinite(answer):
            raise ValueError(f"answer must be a finite number, got {answer}")
        # the shortest text that reads back as the same number, in its own precision
        return Decimal(str(answer) if isinstance(answer, np.floating) else repr(float(answer)))
    if isinstance(answer, list | tuple):
        raise TypeError(f"answer is a {type(answer).__name__}: give the number itself")
    raise TypeError(f"answer must be a number, got {type(answer).__name__}")


def _parse_text(text: str) -> Decimal:
    typed = text.strip()
    if len(typed) > MAX_TYPED:
        raise ValueError(
            f"answer is {len(typed)} characters long: give the number, at most {MAX_TYPED}"
            " characters"
        )
    if _PLAIN.fullmatch(typed):
        return Decimal(typed)
    if typed.endswith("%") and _PLAIN.fullmatch(typed[:-1].strip()):
        raise ValueError(
            f"{typed!r} has a % sign: leave it out ({typed[:-1].strip()}); "
            "the question says the unit"
        )
    if _THOUSANDS.fullmatch(typed):
        raise ValueError(
            f"{typed!r}: write the number without thousands separators ({typed.replace(',', '')})"
        )
    if _DECIMAL_COMMA.fullmatch(typed):
        raise ValueError(
            f"{typed!r}: write decimals with a point, not a comma ({typed.replace(',', '.')})"
        )
    raise ValueError(f"answer must be a number such as 10.9, got {typed!r}")


def _decimals(value: Decimal) -> int:
    return max(0, -value.as_tuple().exponent)


def _written(value: Decimal, decimals: int) -> str:
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    text = f"{rounded:f}"
    return text[1:] if text.startswith("-") and not rounded else text  # no "-0.0"


def _digest(exercise_id: str, written: str) -> str:
    return hashlib.sha256(f"{exercise_id}:{written}".encode()).hexdigest()


def answer_hash(exercise_id: str, answer, *, kind: str = "number", decimals: int = 0) -> str:
    """SHA-256 hex digest of ``"<exercise_id>:<answer written with decimals decimals>"``.

    The number is rounded half to even from the decimals it was given with;
    text is lower-cased with its spaces collapsed. What ``exercises.json`` stores.
    """
    _validate.text(exercise_id, "exercise_id")
    _validate.one_of(kind, "kind", KINDS[:3])
    decimals = _validate.integer(decimals, "decimals", min=0)
    if kind == "text":
        if not isinstance(answer, str):
            raise TypeError(f"answer must be text (a str), got {type(answer).__name__}")
        return _digest(exercise_id, " ".join(answer.lower().split()))
    return _digest(exercise_id, _written(_parse_number(answer), decimals))


def record_hashes(exercise_id: str, answer, *, kind: str, decimals: int = 0) -> dict:
    """The ``sha256`` and ``sha256_more`` fields of a record (what ``add`` writes)."""
    fields = {"sha256": answer_hash(exercise_id, answer, kind=kind, decimals=decimals)}
    if kind in ("number", "integer"):
        fields["sha256_more"] = [
            answer_hash(exercise_id, answer, kind=kind, decimals=decimals + extra)
            for extra in range(1, EXTRA_DECIMALS + 1)
        ]
    return fields


# --- judging -------------------------------------------------------------------------------


def feedback(exercise_id: str, answer) -> tuple[bool, str]:
    """``(right, message)`` for ``answer``; the message quotes only what the student gave."""
    return feedback_for_record(exercise_id, exercise(exercise_id), answer)


def feedback_for_record(exercise_id: str, record: dict, answer) -> tuple[bool, str]:
    """:func:`feedback` for a record that need not be in the course's ``exercises.json``.

    What ``python -m course_utils check`` uses to try a new record as a student would.
    """
    _validate.text(exercise_id, "exercise_id")
    _validate.instance(record, "record", dict, "an exercise record (a dict)")
    kind = _validate.one_of(record.get("kind"), "record['kind']", KINDS)
    if answer is None:
        return False, f"{exercise_id}: replace None with your answer, then run the cell again."
    if kind == "function":
        return False, (
            f"{exercise_id} asks for a function: check it with "
            f"cu.checks.check_function({exercise_id!r}, your_function)."
        )
    if kind == "text":
        if not isinstance(answer, str):
            return False, f"Not checked ({exercise_id}): the answer is text, in quotes."
        right = answer_hash(exercise_id, answer, kind="text") == record["sha256"]
        return right, _verdict(exercise_id, right, repr(answer.strip()), record)
    fraction = record.get("unit") == "fraction"
    typed = answer.strip() if isinstance(answer, str) else ""
    if fraction and typed.endswith("%") and _PLAIN.fullmatch(typed[:-1].strip()):
        percent = Decimal(typed[:-1].strip())
        return False, (
            f"Not checked ({exercise_id}): {typed!r} is a percentage, and the answer is a "
            f"fraction between 0 and 1: write {percent.scaleb(-2):f}."
        )
    try:
        value = _parse_number(answer)
    except (TypeError, ValueError) as error:
        return False, f"Not checked ({exercise_id}): {error}."
    shown = _shown(answer, value)
    if kind == "integer" and value != value.to_integral_value():
        return False, (
            f"Not yet ({exercise_id}): {shown} is not a whole number, and the answer is one"
            " (a count or a year). If it comes from arithmetic with floats, round it."
        )
    if fraction and not 0 <= value <= 1:
        percent = ""
        if 1 < value <= 100:
            percent = f": if {shown} is a percentage, write {value.scaleb(-2):f}"
        return False, (
            f"Not yet ({exercise_id}): {shown} is not between 0 and 1, and the answer is a "
            f"fraction{percent}. Hint: {record['hint']}"
        )
    right = _judge(exercise_id, value, record)
    note = ""
    decimals = record.get("decimals", 0) if kind == "number" else 0
    if not right and _decimals(value) < decimals and _rounds_the_answer(exercise_id, value, record):
        # round(x, 3) is 0.32 for 0.320: a float loses the zero; or the student rounded
        note = (
            f" It has fewer decimals than the {decimals} asked: if you rounded it, give the"
            " unrounded number instead."
        )
    return right, _verdict(exercise_id, right, shown, record, note)


def _rounds_the_answer(exercise_id: str, value: Decimal, record: dict) -> bool:
    """Whether ``value`` (fewer decimals than asked) is the answer rounded to its decimals.

    Tried against the answer written with ``decimals`` decimals: the hash of each number
    that rounds to ``value`` (at most 10**(decimals - given) of them, 1000 at most here).
    """
    decimals, given = record["decimals"], _decimals(value)
    steps = 10 ** (decimals - given)
    if steps > 1000:
        return False
    unit = Decimal(1).scaleb(-decimals)
    low = value - Decimal(steps // 2) * unit
    for step in range(steps + 1):
        candidate = low + step * unit
        if _written(candidate, given) == _written(value, given) and (
            _digest(exercise_id, _written(candidate, decimals)) == record["sha256"]
        ):
            return True
    return False


def _judge(exercise_id: str, value: Decimal, record: dict) -> bool:
    """Whether ``value`` is right for ``record``.

    ``hashes[i]`` is the answer written with ``decimals + i`` decimals (every record has
    ``EXTRA_DECIMALS`` of them beyond ``sha256``: :func:`record_problems` requires it).
    """
    decimals = 0 if record["kind"] == "integer" else record.get("decimals", 0)
    hashes = [record["sha256"], *record["sha256_more"]]
    given = _decimals(value)
    finest = decimals + len(hashes) - 1
    compare = min(given, finest) if given >= decimals else finest
    return _digest(exercise_id, _written(value, compare)) == hashes[compare - decimals]


def _shown(answer, value: Decimal) -> str:
    if isinstance(answer, str):
        return answer.strip()
    return f"{value:f}"


def _verdict(exercise_id: str, right: bool, shown: str, record: dict, note: str = "") -> str:
    if right:
        return f"Correct! ({exercise_id})"
    return f"Not yet ({exercise_id}): {shown} is not the answer.{note} Hint: {record['hint']}"


def check(exercise_id: str, answer) -> None:
    """Print whether ``answer`` is right for exercise ``exercise_id``, with a hint if not.

    What the notebooks' exercise cells call; :func:`feedback` returns the verdict and
    the message instead. ``None`` (the placeholder in the notebooks) prints a reminder.
    """
    print(feedback(exercise_id, answer)[1])


# --- exercises where the student writes a function ---------------------------------------------


def _lrn_case(generator: torch.Generator) -> tuple[tuple, dict]:
    maps = int(torch.randint(3, 12, (1,), generator=generator))
    a = 100 * torch.rand(2, maps, 5, 4, generator=generator, dtype=torch.float64)
    return (a,), {}


def _lrn_reference(a: torch.Tensor) -> torch.Tensor:
    return normalization.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(a)


def _grouped_case(generator: torch.Generator) -> tuple[tuple, dict]:
    groups = int(torch.randint(1, 5, (1,), generator=generator))
    in_channels = groups * int(torch.randint(1, 9, (1,), generator=generator))
    out_channels = groups * int(torch.randint(1, 9, (1,), generator=generator))
    kernel = int(torch.randint(1, 8, (1,), generator=generator))
    return (in_channels, out_channels, kernel, groups), {}


def _grouped_reference(in_channels: int, out_channels: int, kernel: int, groups: int) -> int:
    conv = torch.nn.Conv2d(in_channels, out_channels, kernel, groups=groups, device="meta")
    return sum(p.numel() for p in conv.parameters())


def _match_case(generator: torch.Generator) -> tuple[tuple, dict]:
    boxes = int(torch.randint(1, 7, (1,), generator=generator))
    ious = (0.05 + 0.95 * torch.rand(boxes, generator=generator, dtype=torch.float64)).numpy()
    taken = (torch.rand(boxes, generator=generator) < 0.3).numpy()
    threshold = float(0.1 + 0.8 * torch.rand(1, generator=generator, dtype=torch.float64))
    return (ious, taken, threshold), {}


def _match_reference(ious: np.ndarray, taken: np.ndarray, threshold: float) -> int:
    """:func:`course_utils.metrics.match_detections` on boxes built to have these IoUs.

    The detection is ``(0, 0, 1, 1)``; ground-truth box ``j`` is ``(0, 0, 1 / iou_j, 1)``,
    whose IoU with it is ``iou_j``. Each taken box is first matched by a detection
    identical to it, with a higher score.
    """
    gt_boxes = np.stack([np.zeros_like(ious), np.zeros_like(ious), 1 / ious, np.ones_like(ious)], 1)
    det_boxes = np.concatenate([gt_boxes[taken], [[0.0, 0.0, 1.0, 1.0]]])
    scores = np.r_[np.ones(int(taken.sum())), 0.0]
    same = np.zeros(len(det_boxes), dtype=int)
    matched = metrics.match_detections(
        same, same, det_boxes, scores, np.zeros(len(ious), int), np.zeros(len(ious), int),
        gt_boxes, iou_threshold=threshold,
    )  # fmt: skip
    return int(matched[-1])


# id -> (reference, a function making one random test case from a generator)
_FUNCTION_TESTS: dict[str, tuple[Callable, Callable]] = {
    "alexnet-lrn": (_lrn_reference, _lrn_case),
    "alexnet-groups": (_grouped_reference, _grouped_case),
    "metrics-match": (_match_reference, _match_case),
}


def check_function(exercise_id: str, student_fn: Callable, *, trials: int = 20) -> bool:
    """Test ``student_fn`` against the course's reference on ``trials`` fresh random inputs.

    Prints ``Correct!`` or the first input on which the two differ, and returns
    whether all trials agreed. Tensors are compared with ``torch.allclose``
    (relative tolerance 1e-5), other results with ``==``.
    """
    record = exercise(exercise_id)
    if record["kind"] != "function" or exercise_id not in _FUNCTION_TESTS:
        raise ValueError(f"exercise_id {exercise_id!r} does not ask for a function")
    _validate.function(student_fn, "student_fn", optional=True)
    trials = _validate.integer(trials, "trials", min=1)
    if student_fn is None:
        print(f"{exercise_id}: write your function, then pass it instead of None.")
        return False
    reference, make_case = _FUNCTION_TESTS[exercise_id]
    # fresh inputs from the operating system's randomness: torch's global generator, which
    # a seeded chapter relies on, is left alone
    generator = torch.Generator().manual_seed(secrets.randbits(63))
    for _ in range(trials):
        args, kwargs = make_case(generator)
        expected = reference(*args, **kwargs)
        try:
            got = student_fn(*args, **kwargs)
        except Exception as error:  # the student's code: report, do not crash the cell
            print(f"Not yet ({exercise_id}): your function raised {error!r}. {record['hint']}")
            return False
        if not _same(got, expected):
            shown = ", ".join(_describe(a) for a in args)
            print(
                f"Not yet ({exercise_id}): for the input ({shown}) your function returned "
                f"{_describe(got)}, expected {_describe(expected)}. Hint: {record['hint']}"
            )
            return False
    print(f"Correct! ({exercise_id}: {trials} random inputs agree)")
    return True


def _same(got, expected) -> bool:
    if isinstance(expected, torch.Tensor):
        return (
            isinstance(got, torch.Tensor)
            and got.shape == expected.shape
            and torch.allclose(got.to(expected.dtype), expected, rtol=1e-5, atol=1e-8)
        )
    if isinstance(got, torch.Tensor | np.ndarray | np.generic):
        if np.size(got) != 1:
            return False  # an array where one number is expected
        got = got.item()
    return not isinstance(got, bool) and got == expected


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return np.array2string(value, precision=3, separator=", ")
    return repr(value)
