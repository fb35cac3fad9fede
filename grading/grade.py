"""Grade a folder of submissions: the trusted side of the grader.

For each hand-in (see :mod:`grading.intake`), in a fresh private folder: the hand-in's
code cells, the hidden tests' calls (:mod:`grading.tests`) with their input arrays,
and the runner. The sandbox (:mod:`grading.sandbox`) runs it; when every process of the
submission is gone, this process reads back the results as data (``.npy`` files opened
without following links and loaded without pickle), compares them with the references
it computed itself and writes the row. The student's code never shares a process, a
file or an environment variable with this one, and never sees the seed.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from grading import sandbox, tests
from grading.intake import Submission

#: The most characters of the message of one row.
MESSAGE_CHARS = 600
#: The largest result file read back (bytes).
MAX_RESULT_BYTES = 64 << 20


@dataclass
class Row:
    """One row of the grades."""

    student: str
    submission: str
    scores: dict
    total: float
    possible: float
    mode: str
    message: str
    seconds: float = 0.0


class _Encoder:
    """Turn the grader's arguments (arrays, tensors, layers) into the request's JSON and files."""

    def __init__(self, folder: Path):
        self.folder, self.count = folder, 0

    def array(self, value: np.ndarray, kind: str) -> dict:
        self.count += 1
        name = f"a{self.count}.npy"
        np.save(self.folder / name, np.ascontiguousarray(value), allow_pickle=False)
        return {"array": name, "as": kind}

    def __call__(self, value):
        if isinstance(value, torch.Tensor):
            return self.array(value.detach().cpu().numpy(), "torch")
        if isinstance(value, np.ndarray):
            return self.array(value, "numpy")
        if isinstance(value, torch.nn.Module):
            return {"module": self.module(value)}
        if isinstance(value, tuple):
            return {"tuple": [self(v) for v in value]}
        if isinstance(value, list):
            return {"list": [self(v) for v in value]}
        if isinstance(value, bool | int | float | str) or value is None:
            return {"value": value}
        raise TypeError(f"cannot send {type(value).__name__} to the sandbox")

    def module(self, layer: torch.nn.Module) -> dict:
        nn = torch.nn
        if isinstance(layer, nn.Sequential):
            return {"type": "Sequential", "layers": [self.module(m) for m in layer]}
        if isinstance(layer, nn.Conv2d):
            spec = {
                "type": "Conv2d",
                "args": [layer.in_channels, layer.out_channels, list(layer.kernel_size)],
                "kwargs": {
                    "stride": list(layer.stride),
                    "padding": list(layer.padding),
                    "dilation": list(layer.dilation),
                    "bias": layer.bias is not None,
                },
                "weight": self(layer.weight.detach()),
            }
            if layer.bias is not None:
                spec["bias"] = self(layer.bias.detach())
            return spec
        if isinstance(layer, nn.MaxPool2d | nn.AvgPool2d):
            kwargs = {"stride": layer.stride, "padding": layer.padding}
            if isinstance(layer, nn.MaxPool2d):
                kwargs["dilation"] = layer.dilation
            kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
            kernel = layer.kernel_size
            kernel = list(kernel) if isinstance(kernel, tuple) else kernel
            return {"type": type(layer).__name__, "args": [kernel], "kwargs": kwargs}
        if isinstance(layer, nn.BatchNorm2d):
            return {"type": "BatchNorm2d", "args": [layer.num_features]}
        if isinstance(layer, nn.Dropout):
            return {"type": "Dropout", "args": [layer.p]}
        if isinstance(layer, nn.ReLU):
            return {"type": "ReLU"}
        raise TypeError(f"cannot send a {type(layer).__name__} to the sandbox")


def _read_result(folder: Path, name: str, suffix: str, limit: int) -> bytes | None:
    """The bytes of ``folder/name+suffix`` if it is a regular file (not a link) under ``limit``."""
    try:
        fd = os.open(folder / f"{name}{suffix}", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(limit + 1)
    finally:
        os.close(fd)


def load_result(folder: Path, name: str) -> tuple[np.ndarray | None, str | None]:
    """The array the sandbox returned for call ``name``, or None and why not."""
    data = _read_result(folder, name, ".npy", MAX_RESULT_BYTES)
    if data is not None:
        import io

        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as error:
            return None, f"an unreadable result ({type(error).__name__})"
        if array.dtype.kind not in "biuf":
            return None, f"a result of dtype {array.dtype}, not numbers"
        return array, None
    status = _read_result(folder, name, ".json", 4096)
    try:
        error = str(json.loads(status)["error"]) if status else None
    except (ValueError, KeyError, TypeError):
        error = None
    return None, error or "no result (the submission stopped before this call)"


def grade_submission(
    submission: Submission,
    assignment: str,
    seed: str,
    limits: sandbox.Limits,
    mode: str,
    scratch: Path,
) -> Row:
    """Grade one hand-in; never raises for anything the submission does."""
    points = tests.questions(assignment)
    relative = submission.relative or submission.path.name
    zero = dict.fromkeys(points, 0.0)
    possible = sum(points.values())
    if submission.problem:
        return Row(submission.student, relative, zero, 0.0, possible, "not run", submission.problem)
    workdir = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch))
    try:
        (workdir / "in").mkdir()
        encode = _Encoder(workdir / "in")
        plan, requests = [], []
        for test in tests.ASSIGNMENTS[assignment]:
            calls = test.make(tests.rng(seed, f"{assignment}/{test.name}"))
            ids = []
            for call in calls:
                name = f"c{len(requests)}"
                requests.append({
                    "id": name,
                    "function": call.function,
                    "args": [encode(a) for a in call.args],
                    "kwargs": {k: encode(v) for k, v in call.kwargs.items()},
                    "substitute": call.substitute,
                })  # fmt: skip
                ids.append((name, call.check))
            plan.append((test, ids))
        request = {
            "calls": requests,
            "call_seconds": limits.call_seconds,
            "load_seconds": limits.load_seconds,
        }
        (workdir / "request.json").write_text(json.dumps(request), encoding="utf-8")
        (workdir / "cells.json").write_text(json.dumps(submission.cells), encoding="utf-8")
        outcome = sandbox.run(workdir, limits, mode)
        out = workdir / "out"
        scores, lost = dict(zero), []
        for test, ids in plan:
            problem = None
            for name, check in ids:
                got, problem = load_result(out, name)
                if problem is None:
                    problem = check(got)
                if problem is not None:
                    break
            if problem is None:
                scores[test.question] += test.points
            else:
                lost.append(f"{test.question} {test.name}: {problem}"[:200])
        if outcome.timed_out:
            lost.insert(0, f"stopped after {limits.wall_seconds:g} s (an endless loop?)")
        load = _read_result(out, "load", ".json", 16384)
        try:
            problems = json.loads(load)["problems"] if load else []
        except (ValueError, KeyError, TypeError):
            problems = []
        if problems and lost:
            lost.append("cells that failed: " + "; ".join(str(p)[:120] for p in problems[:3]))
        message = "; ".join(lost) or "all tests passed"
        total = sum(scores.values())
        return Row(
            submission.student, relative, scores, total, possible, mode,
            message[:MESSAGE_CHARS], outcome.seconds,
        )  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def grade_all(
    submissions: list[Submission],
    assignment: str,
    seed: str,
    limits: sandbox.Limits,
    mode: str,
    jobs: int = 1,
    progress=None,
) -> list[Row]:
    """Grade every hand-in (``jobs`` at a time); one row each, in the order given."""
    scratch = Path(tempfile.mkdtemp(prefix="grading-"))  # mode 700: the grader's own
    try:

        def one(submission: Submission) -> Row:
            row = grade_submission(submission, assignment, seed, limits, mode, scratch)
            if progress:
                progress(row)
            return row

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, submissions))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def number(value: float) -> str:
    """Points as the CSV writes them: always two decimals (``7.00``)."""
    return f"{value:.2f}"


def _cell(text: str) -> str:
    """Text for a spreadsheet cell: one starting like a formula (``=``, ``+``, ``-``, ``@``)
    gets a leading ``'``, so that a file named ``=HYPERLINK(...)`` stays text (OWASP's advice)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(rows: list[Row], assignment: str, path: Path) -> None:
    """The grades as CSV (one row per hand-in), written to a temporary name, then renamed."""
    import csv

    questions = list(tests.questions(assignment))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            ["student_id", "submission", *questions, "total", "possible", "mode", "message"]
        )
        for row in rows:
            writer.writerow([
                _cell(row.student), _cell(row.submission),
                *(number(row.scores[q]) for q in questions),
                number(row.total), number(row.possible), row.mode, _cell(row.message),
            ])  # fmt: skip
    os.replace(temporary, path)
