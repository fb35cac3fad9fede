"""Tests of course_utils.normalization against the equation of Krizhevsky et al. (2012), Sec. 3.3,
written out by hand, and against torch.nn.LocalResponseNorm."""

import pytest
import torch
from torch import nn

from course_utils.normalization import LocalResponseNorm


def _lrn_by_hand(a: torch.Tensor, n=5, k=2.0, alpha=1e-4, beta=0.75) -> torch.Tensor:
    """Krizhevsky et al. (2012), Sec. 3.3, written out with loops."""
    batch, channels, height, width = a.shape
    b = torch.empty_like(a)
    for s in range(batch):
        for i in range(channels):
            for x in range(height):
                for y in range(width):
                    total = 0.0
                    for j in range(max(0, i - n // 2), min(channels - 1, i + n // 2) + 1):
                        total += float(a[s, j, x, y]) ** 2
                    b[s, i, x, y] = float(a[s, i, x, y]) / (k + alpha * total) ** beta
    return b


@pytest.mark.parametrize(
    ("n", "k", "alpha", "beta"), [(5, 2.0, 1e-4, 0.75), (3, 1.0, 0.05, 0.5), (7, 0.5, 0.2, 1.0)]
)
def test_lrn_matches_the_paper_equation(n, k, alpha, beta):
    a = torch.randn(2, 9, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(n)) * 5
    ours = LocalResponseNorm(size=n, alpha=alpha, beta=beta, k=k)(a)
    torch.testing.assert_close(ours, _lrn_by_hand(a, n, k, alpha, beta), rtol=1e-12, atol=1e-12)


def test_lrn_paper_constants_make_a_difference():
    # With large activations the normalisation is far from the identity (a check the test can fail).
    a = torch.full((1, 5, 1, 1), 100.0)
    expected = 100.0 / (2.0 + 1e-4 * 5 * 100.0**2) ** 0.75  # all five neighbours in the window
    assert LocalResponseNorm()(a)[0, 2, 0, 0].item() == pytest.approx(expected)


def test_lrn_equals_torch_with_alpha_times_n():
    a = torch.randn(3, 16, 5, 5, generator=torch.Generator().manual_seed(1)) * 10
    paper = LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(a)
    torch_lrn = nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)(a)
    torch.testing.assert_close(paper, torch_lrn)
    # Passing the paper's alpha straight to PyTorch normalises less.
    naive = nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(a)
    assert not torch.allclose(paper, naive)


def test_lrn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="^size"):
        LocalResponseNorm(size=0)


@pytest.mark.parametrize(
    "shape", [(2, 7, 5), (2, 7, 3, 4, 5)], ids=["(N, C, L)", "(N, C, D, H, W)"]
)
def test_lrn_normalises_across_dim_1_for_any_shape_like_torch(shape):
    """forward has no shape check (issue 22); it must then be right for every (N, C, ...)."""
    a = torch.randn(shape, generator=torch.Generator().manual_seed(2)) * 10
    paper = LocalResponseNorm(size=3, alpha=1e-3, beta=0.75, k=2.0)(a)
    torch.testing.assert_close(paper, nn.LocalResponseNorm(3, 3 * 1e-3, 0.75, 2.0)(a))


def test_docstring_example():
    import doctest

    import course_utils.normalization

    assert doctest.testmod(course_utils.normalization).failed == 0
