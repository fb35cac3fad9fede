"""Argument checks shared by every public helper of ``course_utils`` (private).

Each check takes the value and the argument's name, returns the value in a
plain Python or torch form, and otherwise raises one ``TypeError`` (wrong kind
of thing) or ``ValueError`` (right kind, wrong value) whose message names the
argument and says what was expected. The rules, the same everywhere:

* an integer is a Python ``int`` or a NumPy integer, never a ``bool``;
* a number is an integer or a Python/NumPy float, finite unless allowed, never a ``bool``;
* a flag is a ``bool`` (or NumPy ``bool_``), never a string such as ``"no"``;
* a path is a ``str`` or ``os.PathLike``.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
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
    if min is not None and value < min:
        raise ValueError(f"{name} must be an int >= {min}, got {value}")
    if max is not None and value > max:
        raise ValueError(f"{name} must be an int <= {max}, got {value}")
    return value


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
    if positive and value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value:g}")
    if min is not None and value < min:
        raise ValueError(f"{name} must be a number >= {min:g}, got {value:g}")
    if max is not None and value > max:
        raise ValueError(f"{name} must be a number <= {max:g}, got {value:g}")
    return value


def flag(value, name: str) -> bool:
    """``value`` as a ``bool``; only ``True``/``False`` (or NumPy booleans)."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {_shown(value)}")
    return bool(value)


def one_of(value, name: str, choices: Sequence):
    """``value`` itself, if it is one of ``choices``."""
    if not isinstance(value, str | int) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {_shown(value)}")
    return value


def pair(value, name: str, *, min: int = 1) -> tuple[int, int]:
    """An int or a ``(height, width)`` pair of ints, each ``>= min``, as a pair."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an int or a (height, width) pair, got {_shown(value)}"
            )
        return tuple(integer(v, name, min=min) for v in value)
    value = integer(value, name, min=min)
    return value, value


def module(value, name: str = "model") -> nn.Module:
    """``value`` itself, if it is a ``torch.nn.Module``."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def tensor(
    value,
    name: str,
    *,
    ndim: int | None = None,
    shape: str = "",
    floating: bool = False,
    nonempty: bool = True,
    finite: bool = False,
) -> torch.Tensor:
    """``value`` itself, if it is a tensor of the expected form.

    ``shape`` describes the expected shape in messages, e.g. ``"(N, C, H, W)"``.
    """
    expected = f"a {shape} tensor" if shape else "a tensor"
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must be {expected}, got shape {tuple(value.shape)}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got dtype {value.dtype}")
    if nonempty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and not torch.isfinite(value).all():
        raise ValueError(f"{name} must hold finite values (no NaN or inf)")
    return value


def path(value, name: str) -> Path:
    """``value`` as a :class:`pathlib.Path`; a ``str`` or ``os.PathLike``."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(value).__name__}")
    return Path(value)


def submodule(model: nn.Module, layer, name: str = "layer") -> tuple[str, nn.Module]:
    """``(dotted name, submodule)`` for ``layer``, given as a submodule of ``model`` or its name."""
    modules = dict(model.named_modules())
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
