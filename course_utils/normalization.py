"""Local response normalisation, as AlexNet's paper writes it (Krizhevsky et al. 2012, Sec. 3.3).

ZFNet keeps it too ("contrast normalized across feature maps", Zeiler & Fergus
2014, Sec. 3), so both of the course's architectures in :mod:`course_utils.models`
use this layer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import _validate

__all__ = ["LocalResponseNorm"]


class LocalResponseNorm(nn.Module):
    r"""Local response normalisation across channels, as written in AlexNet's paper.

    Krizhevsky et al. (2012), Sec. 3.3, for the activity :math:`a^i_{x,y}` of
    kernel map :math:`i` at position :math:`(x, y)` among :math:`N` maps:

    .. math::
        b^i_{x,y} = a^i_{x,y} \Big/ \Big(k + \alpha
        \sum_{j=\max(0,\, i-n/2)}^{\min(N-1,\, i+n/2)} (a^j_{x,y})^2\Big)^{\beta}

    with :math:`n/2` rounded down, and the paper's values ``k=2, n=5, alpha=1e-4,
    beta=0.75``. The paper applies it after the ReLU of conv1 and conv2.

    PyTorch's ``torch.nn.LocalResponseNorm(size, alpha, beta, k)`` computes the same
    sum but multiplies it by ``alpha / size`` (it averages the squares over a
    window of ``size`` channels, zero-padded at the ends, so it divides by ``n``
    even near the first and last channel). So the paper's layer is
    ``torch.nn.LocalResponseNorm(size=n, alpha=n * alpha, beta=beta, k=k)``:
    passing the paper's ``alpha=1e-4`` straight to PyTorch normalises five times
    less than the paper did. (For odd ``n`` the two windows agree; for even ``n``
    PyTorch's window is not centred the same way.)

    Input and output: ``(N, C, ...)`` float tensors of the same shape (``(N, C, H, W)``
    in a CNN), normalised across the channel dimension 1, as ``torch.nn.LocalResponseNorm``.

    Example:
        >>> lrn = LocalResponseNorm(size=3, alpha=1.0, beta=1.0, k=1.0)
        >>> out = lrn(torch.tensor([[[[1.0]], [[2.0]]]]))  # 1 / (1 + 1 + 4), 2 / (1 + 1 + 4)
        >>> [round(v, 4) for v in out.flatten().tolist()]
        [0.1667, 0.3333]
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
        super().__init__()
        self.size = _validate.integer(size, "size", min=1)
        self.alpha = _validate.number(alpha, "alpha", min=0)
        self.beta = _validate.number(beta, "beta", min=0)
        self.k = _validate.number(k, "k", min=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        half = self.size // 2
        squares = F.pad(x.pow(2).movedim(1, -1), (half, half))  # zero channels at both ends
        # Sum of squares over channels j = i - n/2 .. i + n/2 (n/2 rounded down).
        window = squares.unfold(-1, 2 * half + 1, 1).sum(dim=-1).movedim(-1, 1)
        return x / (self.k + self.alpha * window).pow(self.beta)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
