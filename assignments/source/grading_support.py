"""Helpers for the hidden tests of the graded assignments (shipped in every autograder zip).

This file is public on purpose: what keeps hidden tests hidden is not their code but
their inputs, which are drawn at grading time from a seed only the instructor sets.

* :func:`rng` -- the random inputs of one hidden test, from ``INSIDE_ILSVRC_GRADING_SEED``.
* :func:`run_own` -- call a student's function, refusing answers that use ``course_utils``
  (the course's own implementation of what the student was asked to write): checked
  before the call, in the function's code and the helpers it calls, and during the
  call, where any ``course_utils`` code that runs is caught.
* :func:`time_limited` -- scripts/make_assignments.py puts it on every test of the
  autograder (public ones too), so that an endless loop in a student's function
  costs the tests that call it, not the whole submission.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import secrets
import signal
import sys
import threading
import types
from contextlib import contextmanager
from pathlib import Path

import numpy as np

try:  # loaded with the test files, so that no test's time limit ever stops an import halfway
    import course_utils  # noqa: F401  (the hidden tests' references)
except ImportError:  # pragma: no cover - only grading needs it
    pass

#: The environment variable that holds the instructor's grading seed (any string).
SEED_VARIABLE = "INSIDE_ILSVRC_GRADING_SEED"
#: The environment variable that may set TIME_LIMIT (scripts/grade_assignments.py --test-timeout).
TIME_LIMIT_VARIABLE = "INSIDE_ILSVRC_TEST_SECONDS"
#: Seconds one test may take (the tests themselves take milliseconds).
TIME_LIMIT = float(os.environ.get(TIME_LIMIT_VARIABLE) or 10)
#: Where course_utils' code lives: any frame running a file under it is course_utils'.
_SPEC = importlib.util.find_spec("course_utils")
COURSE_UTILS_DIR = str(Path(_SPEC.origin).parent) if _SPEC and _SPEC.origin else None
_FALLBACK_SEED = secrets.token_hex(8)  # no seed set: fresh inputs at every grading


def rng(test: str) -> np.random.Generator:
    """A generator for the hidden test named ``test``, seeded by the instructor's seed.

    The same seed gives the same inputs (grading can be rerun and audited); different
    tests get different streams. Without ``INSIDE_ILSVRC_GRADING_SEED`` the inputs
    are fresh at every run.
    """
    seed = os.environ.get(SEED_VARIABLE) or _FALLBACK_SEED
    digest = hashlib.sha256(f"{seed}/{test}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def _from_course_utils(value) -> bool:
    if isinstance(value, types.ModuleType):
        return value.__name__.split(".")[0] == "course_utils"
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] == "course_utils"


def _codes(code: types.CodeType):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def course_utils_references(func, _seen=None) -> list[str]:
    """Names through which ``func``, or a helper of the student's it calls, reaches course_utils."""
    seen = set() if _seen is None else _seen
    if id(func) in seen:
        return []
    seen.add(id(func))
    if _from_course_utils(func):
        return [getattr(func, "__qualname__", repr(func))]
    func = getattr(func, "__func__", func)  # a bound method
    code = getattr(func, "__code__", None)
    if code is None:
        return []
    found = []
    scope = dict(getattr(func, "__globals__", {}))
    cells = [cell.cell_contents for cell in func.__closure__ or () if _filled(cell)]
    defaults = list(func.__defaults__ or ()) + list((func.__kwdefaults__ or {}).values())
    for inner in _codes(code):
        for const in inner.co_consts:
            if isinstance(const, str) and "course_utils" in const:
                found.append(repr(const))
        values = [scope[name] for name in inner.co_names if name in scope]
        for value in values + cells + defaults:
            if _from_course_utils(value):
                found.append(getattr(value, "__name__", repr(value)))
            elif (
                isinstance(value, types.FunctionType | type) and value.__module__ == func.__module__
            ):
                found += course_utils_references(value, seen)  # a helper of the student's own
    return sorted(set(found))


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


@contextmanager
def _watch_course_utils(calls: list[str]):
    """Record every course_utils function that runs inside the block (and a profiler swap)."""

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(COURSE_UTILS_DIR):
            calls.append(frame.f_code.co_qualname)

    if not COURSE_UTILS_DIR:  # course_utils is not installed: nothing of it can run
        yield
        return
    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
        if sys.getprofile() is not profile:
            calls.append("(the profiler that watches for course_utils was replaced)")
    finally:
        sys.setprofile(previous)


def time_limited(test):
    """Decorate a test so that it fails with a TimeoutError after ``TIME_LIMIT`` seconds."""

    @functools.wraps(test)  # otter reads the test's parameters from its signature
    def limited(*args, **kwargs):
        if threading.current_thread() is not threading.main_thread():
            return test(*args, **kwargs)  # no signals here; the grading script's limit holds

        def stop(signum, frame):
            raise TimeoutError(f"the test ran longer than {TIME_LIMIT:g} s and was stopped")

        previous = signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
        try:
            return test(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    return limited


def run_own(func, *args, **kwargs):
    """``func(*args, **kwargs)``, if ``func`` is the student's own work.

    Raises:
        AssertionError: ``func`` is missing, refers to course_utils (directly or through
            a helper), or course_utils code ran during the call: the test fails, and
            since every graded test goes through here, the question gets no credit.
    """
    assert callable(func), f"expected a function, got {type(func).__name__}: is it defined?"
    name = getattr(func, "__name__", "the function")
    refs = course_utils_references(func)
    assert not refs, (
        f"{name} uses course_utils ({', '.join(refs)}): the answer must be your own code, "
        "so this question gets no credit"
    )
    calls: list[str] = []
    with _watch_course_utils(calls):
        result = func(*args, **kwargs)
    assert not calls, (
        f"{name} ran course_utils code ({', '.join(sorted(set(calls)))}): the answer must be "
        "your own code, so this question gets no credit"
    )
    return result
