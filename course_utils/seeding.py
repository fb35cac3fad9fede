"""Seeding, so that a chapter gives the same numbers on every run."""

from __future__ import annotations

import random

import numpy as np
import torch

from . import _validate

__all__ = ["seed_everything"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's random generators with ``seed``.

    Also asks PyTorch for deterministic algorithms (on the CPU, where the
    course runs, this costs nothing). Returns a ``torch.Generator`` seeded the
    same way, for data loaders. ``seed`` is an int in ``[0, 2**32 - 1]`` (NumPy's range).
    """
    seed = _validate.integer(seed, "seed", min=0, max=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the global generator that other libraries draw from
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    return torch.Generator().manual_seed(seed)
