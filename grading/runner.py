"""Run inside the sandbox: load one submission, call its functions, write the results as data.

This file is copied into the sandbox next to the submission and run there by the sandbox's
Python. It is *not* trusted: the student's code runs in this same process and may change
anything in it. That is fine, because nothing here decides a grade. The trusted grader
(outside, in another process) wrote ``request.json`` and the input arrays, and after this
process and every process it started are gone it reads back only ``out/<call>.npy``
(``numpy.load(..., allow_pickle=False)``), checks them against references it computes
itself, and decides the score. The grading seed, the hidden tests and the references
never enter this process.

Standalone on purpose: only the standard library, numpy and torch (no ``course_utils``,
which is not even visible in the sandbox, and no ``grading``).

    python runner.py WORKDIR    # WORKDIR holds submission.py, request.json, in/, out/
"""

import json
import signal
import sys
import traceback
import types
from pathlib import Path

import numpy as np

#: The most characters of one error message written back (the grader truncates again).
MESSAGE_CHARS = 300


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException so that ``except Exception`` does not swallow it."""


def _alarm(signum, frame):
    raise _Timeout


def _otter_stub() -> types.ModuleType:
    """A stand-in for otter: ``grader.check("q1")`` in a notebook does nothing here."""

    class Notebook:
        def __init__(self, *args, **kwargs):
            pass

        def __getattr__(self, name):
            return lambda *args, **kwargs: None

    module = types.ModuleType("otter")
    module.Notebook = Notebook
    return module


def _short(error: BaseException) -> str:
    text = "".join(traceback.format_exception_only(type(error), error)).strip()
    return text.splitlines()[-1][:MESSAGE_CHARS] if text else type(error).__name__


def load(workdir: Path, seconds: float) -> tuple[dict, list[str]]:
    """Execute the submission's cells (a list in cells.json) in one namespace, as a kernel would.

    A cell may run ``seconds``; one that fails or runs longer is left, and the next runs.
    """
    sys.modules["otter"] = _otter_stub()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    problems = []
    cells = json.loads((workdir / "cells.json").read_text(encoding="utf-8"))
    for index, source in enumerate(cells):
        signal.setitimer(signal.ITIMER_REAL, seconds)  # each cell: a stray loop costs this much
        try:
            code = compile(source, f"<cell {index + 1}>", "exec")
            exec(code, namespace)  # noqa: S102 - running the student's code is the point
        except _Timeout:
            problems.append(f"cell {index + 1}: stopped after {seconds:g} s")
        except BaseException as error:  # a cell that fails: go on, as "run all" with errors would
            problems.append(f"cell {index + 1}: {_short(error)}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    return namespace, problems


def _module(spec: dict, arrays: Path):
    import torch

    kind = spec["type"]
    if kind == "Sequential":
        return torch.nn.Sequential(*[_module(layer, arrays) for layer in spec["layers"]])
    allowed = {"Conv2d", "MaxPool2d", "AvgPool2d", "ReLU", "BatchNorm2d", "Dropout"}
    if kind not in allowed:
        raise ValueError(f"unknown layer {kind}")
    layer = getattr(torch.nn, kind)(*spec.get("args", []), **spec.get("kwargs", {}))
    with torch.no_grad():
        for name in ("weight", "bias"):
            if name in spec:
                getattr(layer, name).copy_(_argument(spec[name], arrays))
    return layer


def _argument(spec, arrays: Path):
    if not isinstance(spec, dict):
        return spec
    if "array" in spec:
        array = np.load(arrays / spec["array"], allow_pickle=False)
        if spec.get("as") == "torch":
            import torch

            return torch.from_numpy(array)
        return array
    if "tuple" in spec:
        return tuple(_argument(item, arrays) for item in spec["tuple"])
    if "list" in spec:
        return [_argument(item, arrays) for item in spec["list"]]
    if "module" in spec:
        return _module(spec["module"], arrays)
    return spec["value"]


def _as_array(result) -> np.ndarray:
    """The result as a numeric array: tensors (and lists or tuples of numbers) included."""
    try:
        import torch
    except ImportError:  # pragma: no cover
        torch = None
    if torch is not None and isinstance(result, torch.Tensor):
        return result.detach().cpu().resolve_conj().resolve_neg().numpy()
    if torch is not None and isinstance(result, list | tuple):
        result = [r.detach().cpu().numpy() if isinstance(r, torch.Tensor) else r for r in result]
    array = np.asarray(result)
    if array.dtype == object or array.dtype.kind not in "biuf":
        raise TypeError(f"returned {type(result).__name__}, not numbers")
    return array


def call(namespace: dict, request: dict, arrays: Path, out: Path, seconds: float) -> None:
    """Make one call of the request and write its result (or error) under ``out``."""
    name = request["id"]
    status = {}
    function = namespace.get(request["function"])
    saved = {}
    try:
        if not callable(function):
            raise NameError(f"{request['function']} is not defined")
        for other, source in request.get("substitute", {}).items():
            scope: dict = {}
            exec(source, scope)  # noqa: S102 - the grader's reference, e.g. q2's unpool
            saved[other] = namespace.get(other)
            namespace[other] = scope[other]
        args = [_argument(spec, arrays) for spec in request.get("args", [])]
        kwargs = {key: _argument(spec, arrays) for key, spec in request.get("kwargs", {}).items()}
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            result = function(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        array = _as_array(result)
        np.save(out / f"{name}.tmp.npy", array, allow_pickle=False)
        (out / f"{name}.tmp.npy").rename(out / f"{name}.npy")
    except _Timeout:
        status["error"] = f"stopped after {seconds:g} s"
    except BaseException as error:
        status["error"] = _short(error)
    finally:
        for other, value in saved.items():
            namespace[other] = value
    if status:
        (out / f"{name}.json").write_text(json.dumps(status), encoding="utf-8")


def main(workdir: Path) -> None:
    out = workdir / "out"
    signal.signal(signal.SIGALRM, _alarm)
    request = json.loads((workdir / "request.json").read_text(encoding="utf-8"))
    seconds = float(request["call_seconds"])
    namespace, problems = load(workdir, float(request["load_seconds"]))
    (out / "load.json").write_text(json.dumps({"problems": problems[:20]}), encoding="utf-8")
    for entry in request["calls"]:
        call(namespace, entry, workdir / "in", out, seconds)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
