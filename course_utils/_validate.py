"""Argument checks shared by every public helper of ``course_utils`` (private).

Each check takes the value and the argument's name, returns the value in a
plain Python or torch form, and otherwise raises one ``TypeError`` (wrong kind
of thing) or ``ValueError`` (right kind, wrong value) whose message names the
argument and says what was expected. The rules, the same everywhere:

* an integer is a Python ``int`` or a NumPy integer, never a ``bool``;
* a number is an integer or a Python/NumPy float, finite unless allowed, never a ``bool``;
* a flag is a ``bool`` (or NumPy ``bool_``), never a string such as ``"no"``;
* a path is a ``str`` or ``os.PathLike``;
* a list is a ``list``, ``tuple`` or other sequence, never a ``str`` (read as letters);
* a table is a non-empty ``pandas.DataFrame`` with the columns its maker gives it;
* an array is a tensor, a NumPy array or a nested sequence of real numbers,
  finite unless allowed.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def integer(value, name: str, *, min: int | None = None, max: int | None = None) -> int:
    """``value`` as an ``int`` in ``[min, max]``; NumPy integers accepted, booleans refused."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {_shown(value)}")
    value = int(value)
    if (min is not None and value < min) or (max is not None and value > max):
        raise ValueError(f"{name} must be an int {_range(min, max, '[')}, got {value}")
    return value


def _range(low, high, bracket: str) -> str:
    """``"in [low, high]"``, ``">= low"`` or ``"<= high"``; ``bracket="("`` excludes ``low``."""
    if low is not None and high is not None:
        return f"in {bracket}{low:g}, {high:g}]"
    if low is not None:
        return f"> {low:g}" if bracket == "(" else f">= {low:g}"
    return f"<= {high:g}"


def number(
    value,
    name: str,
    *,
    min: float | None = None,
    max: float | None = None,
    positive: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a ``float``; NaN refused, infinities refused unless ``finite=False``.

    ``min``/``max`` are inclusive bounds; ``positive=True`` requires ``value > 0``.
    """
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {_shown(value)}")
    value = float(value)
    if math.isnan(value) or (finite and math.isinf(value)):
        raise ValueError(f"{name} must be a finite number, got {value}")
    low = 0.0 if positive and min is None else min
    if (
        positive
        and value <= 0
        or (min is not None and value < min)
        or (max is not None and value > max)
    ):
        bounds = _range(low, max, "(" if positive else "[")
        raise ValueError(f"{name} must be a number {bounds}, got {value:g}")
    return value


def flag(value, name: str) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or NumPy booleans)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_shown(value)}")
    return bool(value)


def text(value, name: str, *, optional: bool = False) -> str | None:
    """``value`` itself, if it is a ``str`` (or ``None`` when ``optional``)."""
    if optional and value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {_shown(value)}")
    return value


def function(value, name: str, *, optional: bool = False):
    """``value`` itself, if it can be called (or is ``None`` when ``optional``)."""
    if not (callable(value) or (optional and value is None)):
        raise TypeError(f"{name} must be a function, got {type(value).__name__} {_shown(value)}")
    return value


def generator(value, name: str = "generator") -> torch.Generator | None:
    """``value`` itself, if it is ``None`` or a ``torch.Generator``."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(
            f"{name} must be a torch.Generator (e.g. torch.Generator().manual_seed(0)) or None, "
            f"got {type(value).__name__} {_shown(value)}"
        )
    return value


def instance(value, name: str, kind: type | tuple[type, ...], what: str):
    """``value`` itself, if it is a ``kind``; ``what`` describes it, e.g. ``"an ImageSet"``."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__}")
    return value


def one_of(value, name: str, choices: Sequence):
    """``value`` itself, if it is one of ``choices``."""
    if not isinstance(value, str | int) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {_shown(value)}")
    return value


def items(value, name: str, check, what: str, *, nonempty: bool = False, **options) -> list:
    """``value``, a list, tuple or other sequence (never a ``str``), as a list of checked items.

    Each item becomes ``check(item, name, **options)``, e.g. ``items(sizes, "sizes",
    integer, "a list of ints", min=1)``; ``what`` describes the whole.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be {what}, got {type(value).__name__} {_shown(value)}")
    if nonempty and not value:
        raise ValueError(f"{name} must be {what} with at least one entry, got none")
    return [check(item, name, **options) for item in value]


def table(value, name: str, columns, maker: str) -> pd.DataFrame:
    """``value`` itself, if it is a non-empty DataFrame with ``columns``, as ``maker`` returns it."""
    instance(value, name, pd.DataFrame, f"the table of {maker}")
    missing = sorted(set(columns) - set(value.columns))
    if missing:
        raise ValueError(f"{name} must have the columns of {maker}; it lacks {missing}")
    if value.empty:
        raise ValueError(f"{name} must not be empty")
    return value


def pair(value, name: str, *, min: int = 1) -> tuple[int, int]:
    """An int or a ``(height, width)`` pair of ints, each ``>= min``, as a pair.

    A pair may also be a pandas row, a NumPy array or a tensor of two integers (e.g.
    ``top.loc[0, ["row", "column"]]``).
    """
    if isinstance(value, pd.Series | np.ndarray | torch.Tensor) and value.ndim == 1:
        # a table's row holds its ints as floats when other columns are floats
        value = [int(v) if isinstance(v, float) and v.is_integer() else v for v in value.tolist()]
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a (height, width) pair, got {_shown(value)}"
            )
        return tuple(integer(v, name, min=min) for v in value)
    value = integer(value, name, min=min)
    return value, value


def position(value, name: str = "position"):
    """A unit's position: ``None`` (the strongest), ``"centre"``, or a ``(row, column)`` pair."""
    if value is None or (isinstance(value, str) and value == "centre"):
        return value
    if isinstance(value, str):
        raise ValueError(f"{name} must be (row, column), 'centre' or None, got {_shown(value)}")
    return pair(value, name, min=0)


def module(value, name: str = "model") -> nn.Module:
    """``value`` itself, if it is a ``torch.nn.Module``."""
    if value is None:
        raise TypeError(
            f"{name} must be a torch.nn.Module, got None (a loader returns None when offline: "
            f"guard the cell with `if {name} is not None:`)"
        )
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def tensor(
    value,
    name: str,
    *,
    ndim: int | tuple[int, ...] | None = None,
    shape: str = "",
    floating: bool = False,
    nonempty: bool = True,
    finite: bool = False,
) -> torch.Tensor:
    """``value`` itself, if it is a tensor of the expected form.

    ``ndim`` is the number of dimensions, or a tuple of the allowed ones;
    ``shape`` describes the expected shape in messages, e.g. ``"(N, C, H, W)"``.
    """
    expected = f"a {shape} tensor" if shape else "a tensor"
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    if ndim is not None and value.dim() not in (ndim if isinstance(ndim, tuple) else (ndim,)):
        raise ValueError(f"{name} must be {expected}, got shape {tuple(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and not torch.isfinite(has_values(value, name)).all():
        raise ValueError(f"{name} must hold finite values (no NaN or inf)")
    return value


def array(
    value,
    name: str,
    *,
    ndim: int | None = None,
    shape: str = "",
    integer: bool = False,
    finite: bool = True,
    booleans: bool = False,
) -> np.ndarray:
    """``value`` (tensor, NumPy array or nested sequence) as a NumPy array of real numbers.

    ``integer=True`` requires integers (an empty array reads as int64); booleans
    are refused unless ``booleans=True``. NaN and infinities are refused unless
    ``finite=False``.
    """
    expected = f"a {shape} array" if shape else "an array"
    if isinstance(value, torch.Tensor):
        value = has_values(value, name).detach().cpu().numpy()
    elif isinstance(value, str | bytes | dict | set) or value is None:
        raise TypeError(f"{name} must be {expected} of numbers, got {type(value).__name__}")
    try:
        value = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be {expected} of numbers, got a ragged or mixed {type(value).__name__}"
        ) from None
    if ndim is not None and value.ndim != ndim:
        raise ValueError(f"{name} must be {expected}, got shape {value.shape}")
    if integer and value.size == 0:
        value = value.astype(np.int64)  # [] reads as float64
    if booleans and value.dtype == bool:
        return value
    if value.dtype == bool or not np.issubdtype(value.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
    if np.issubdtype(value.dtype, np.complexfloating):
        raise TypeError(f"{name} must hold real numbers, got dtype {value.dtype}")
    if integer and not np.issubdtype(value.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {value.dtype}")
    if finite and np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
        raise ValueError(f"{name} must hold finite values (no NaN or inf)")
    return value


def path(value, name: str) -> Path:
    """``value`` as a :class:`pathlib.Path`; a ``str`` or ``os.PathLike``."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return Path(value)


def submodule(model: nn.Module, layer, name: str = "layer") -> tuple[str, nn.Module]:
    """``(dotted name, submodule)`` for ``layer``, given as a submodule of ``model`` or its name."""
    modules = dict(model.named_modules(remove_duplicate=False))  # a module used twice: both names
    if isinstance(layer, str):
        if layer not in modules or layer == "":
            some = ", ".join(list(n for n in modules if n)[:8])
            raise ValueError(f"{name} {layer!r} is not a submodule of the model (e.g. {some})")
        return layer, modules[layer]
    if isinstance(layer, nn.Module):
        for key, candidate in modules.items():
            if candidate is layer and key:
                return key, layer
        raise ValueError(
            f"{name} must be a submodule of the model, got a {type(layer).__name__} that is not in it"
        )
    raise TypeError(
        f"{name} must be a submodule of the model or its dotted name, got {type(layer).__name__}"
    )


def has_values(value: torch.Tensor, name: str) -> torch.Tensor:
    """``value``, unless it is on the meta device (shapes only): a helper that reads values refuses it."""
    if value.is_meta:
        raise ValueError(
            f"{name} is on the meta device, which holds shapes but no values; "
            "move it to 'cpu' or 'cuda' first"
        )
    return value


def same_device(value: torch.Tensor, name: str, other: torch.Tensor, other_name: str) -> None:
    """Refuse ``value`` on another device than ``other`` (torch's message names neither)."""
    if value.device != other.device:
        raise ValueError(
            f"{name} is on {value.device} but {other_name} is on {other.device}: "
            f"move one of them, e.g. {name}.to({other_name}.device)"
        )
