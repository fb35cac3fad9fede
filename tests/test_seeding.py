"""course_utils.seed_everything and setup_notebook: the same numbers on every run."""

import random

import numpy as np
import pytest
import torch

import course_utils as cu


def draws():
    return random.random(), np.random.rand(), torch.rand(3).tolist()  # noqa: NPY002


def test_same_seed_same_draws_other_seed_other_draws():
    threads = torch.get_num_threads()
    try:
        cu.setup_notebook(seed=7)
        first = draws()
        cu.setup_notebook(seed=7)
        assert draws() == first
        cu.setup_notebook(seed=8)
        assert draws() != first
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)


def test_generator_is_seeded():
    a = torch.randperm(10, generator=cu.seed_everything(3))
    b = torch.randperm(10, generator=cu.seed_everything(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("seed", "error"),
    [(-1, ValueError), (2**32, ValueError), (1.5, TypeError), ("0", TypeError), (True, TypeError)],
)
def test_bad_seed(seed, error):
    with pytest.raises(error, match="^seed must be"):
        cu.seed_everything(seed)


def test_numpy_integer_seed_is_the_same_seed():
    assert cu.seed_everything(np.int64(3)).initial_seed() == 3
    first = draws()
    cu.seed_everything(3)
    assert draws() == first


def test_seeding_leaves_pytorch_deterministic_mode_alone():
    # On a GPU a process-wide deterministic mode makes AdaptiveAvgPool2d's backward and
    # MaxUnpool2d raise; seed_everything no longer switches it on.
    before = torch.are_deterministic_algorithms_enabled()
    cu.seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled() == before
    with cu.seeding.deterministic_algorithms():
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.are_deterministic_algorithms_enabled() == before


def test_setup_notebook_sets_the_device_to_use():
    threads = torch.get_num_threads()
    try:
        assert cu.setup_notebook(seed=0) is None  # prints nothing in a chapter
    finally:
        torch.set_num_threads(threads)
    assert cu.DEVICE.type == ("cuda" if torch.cuda.is_available() else "cpu")
