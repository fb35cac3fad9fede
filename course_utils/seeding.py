"""Seeding, so that a chapter gives the same numbers on every run."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from . import _validate

__all__ = ["deterministic_algorithms", "seed_everything"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators with ``seed``.

    Returns a ``torch.Generator`` seeded the same way, for data loaders. ``seed``
    is an int in ``[0, 2**32 - 1]`` (NumPy's range).

    Nothing else is changed: PyTorch's deterministic mode is *not* switched on for
    the whole process (on a GPU it makes ``AdaptiveAvgPool2d``'s backward and
    ``MaxUnpool2d`` raise, and cuBLAS asks for ``CUBLAS_WORKSPACE_CONFIG``). On the
    CPU, where the course's numbers are recorded, the operations it uses are
    deterministic anyway; :func:`course_utils.train.fit` asks for deterministic
    algorithms during training only (:func:`deterministic_algorithms`).

    Example:
        >>> import torch
        >>> a = torch.rand(2, generator=seed_everything(3))
        >>> b = torch.rand(2, generator=seed_everything(3))
        >>> bool(torch.equal(a, b))
        True
    """
    seed = _validate.integer(seed, "seed", min=0, max=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the global generator that other libraries draw from
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


@contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Inside the block, PyTorch uses deterministic algorithms where it has them.

    ``torch.use_deterministic_algorithms(True, warn_only=True)``: an operation
    without a deterministic implementation (on a GPU, e.g. ``AdaptiveAvgPool2d``'s
    backward) warns instead of raising. The setting before the block is restored
    after it, also on an error.
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
