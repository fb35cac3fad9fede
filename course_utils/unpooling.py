"""Max pooling that records its switches, and unpooling that uses them.

Zeiler & Fergus (2014), Sec. 2.1: "the max pooling operation is non-invertible,
however we can obtain an approximate inverse by recording the locations of the
maxima within each pooling region in a set of switch variables. In the deconvnet,
the unpooling operation uses these switches to place the reconstructions from the
layer above into appropriate locations, preserving the structure of the stimulus."

* :func:`max_pool_with_switches` -- max pooling, and for every output the index of
  the input pixel it came from (its *switch*).
* :func:`unpool` -- put each pooled value back at its switch, zeros elsewhere.
* :func:`upsample` -- unpooling *without* switches (nearest neighbour, or a
  bilinear average of neighbouring windows), for comparison.

**Overlapping pooling.** With a 3x3 window and stride 2 (AlexNet, ZFNet), two
neighbouring windows can choose the same input pixel. :func:`unpool` then *adds*
both values there. That makes it the exact transpose (adjoint) of max pooling for
fixed switches, the same operation that autograd runs backward through
``max_pool2d``. PyTorch's ``F.max_unpool2d`` instead *writes* each value, so one
of the two is lost (which one is not specified; in PyTorch's deterministic mode,
``torch.use_deterministic_algorithms(True)``, it refuses to run).
Zeiler & Fergus (2014) do not say what their unpooling does where pooling
regions overlap; adding keeps the deconvnet an exact transpose.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validate

__all__ = ["max_pool_with_switches", "unpool", "upsample"]


def max_pool_with_switches(
    x: torch.Tensor,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    *,
    ceil_mode: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Max pooling of ``x`` and its switches.

    Args:
        x: ``(N, C, H, W)`` float tensor.
        kernel_size, stride, padding, ceil_mode: as in ``torch.nn.MaxPool2d``
            (``stride`` defaults to ``kernel_size``).

    Returns:
        ``(pooled, switches)``, both ``(N, C, h, w)``: the maxima, and for each the
        flat index ``row * W + column`` of the input pixel it came from
        (``int64``), as ``F.max_pool2d(..., return_indices=True)`` gives them.

    Example:
        >>> x = torch.tensor([[[[1.0, 5.0], [3.0, 2.0]]]])
        >>> pooled, switches = max_pool_with_switches(x, 2)
        >>> pooled.flatten().tolist(), switches.flatten().tolist()
        ([5.0], [1])
    """
    _validate.tensor(x, "x", ndim=4, shape="(N, C, H, W)", floating=True)
    kernel_size = _validate.pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else _validate.pair(stride, "stride")
    padding = _validate.pair(padding, "padding", min=0)
    ceil_mode = _validate.flag(ceil_mode, "ceil_mode")
    if any(2 * p > k for p, k in zip(padding, kernel_size, strict=True)):
        raise ValueError(
            f"padding must be at most half of kernel_size {kernel_size} (a window would hold "
            f"only padding), got {padding}"
        )
    for axis, size, k, p in zip(
        ("height", "width"), x.shape[-2:], kernel_size, padding, strict=True
    ):
        if size + 2 * p < k:
            raise ValueError(
                f"kernel_size {kernel_size} is larger than x's {axis} {size} plus twice the "
                f"padding {p}: no window fits"
            )
    return F.max_pool2d(x, kernel_size, stride, padding, ceil_mode=ceil_mode, return_indices=True)


def unpool(
    pooled: torch.Tensor, switches: torch.Tensor, output_size: tuple[int, int]
) -> torch.Tensor:
    """Place every pooled value back at its switch; zeros everywhere else.

    Args:
        pooled: ``(N, C, h, w)`` values (the pooled maps, or a signal coming down
            through a deconvnet).
        switches: ``(N, C, h, w)`` int64 flat indices from :func:`max_pool_with_switches`.
        output_size: ``(H, W)`` of the map that was pooled.

    Returns:
        ``(N, C, H, W)`` tensor. Where overlapping windows share a switch, their
        values are *added* (the transpose of max pooling; see the module's notes).

    Example:
        >>> pooled, switches = torch.tensor([[[[5.0]]]]), torch.tensor([[[[1]]]])
        >>> unpool(pooled, switches, (2, 2)).flatten().tolist()
        [0.0, 5.0, 0.0, 0.0]
    """
    _validate.tensor(pooled, "pooled", ndim=4, shape="(N, C, h, w)", floating=True)
    _validate.tensor(switches, "switches", ndim=4, shape="(N, C, h, w)")
    if switches.dtype != torch.int64 or switches.shape != pooled.shape:
        raise ValueError(
            f"switches must be an int64 tensor of pooled's shape {tuple(pooled.shape)}, "
            f"got {switches.dtype} {tuple(switches.shape)}"
        )
    _validate.same_device(switches, "switches", pooled, "pooled")
    height, width = _validate.pair(output_size, "output_size")
    _validate.has_values(switches, "switches")
    if switches.min() < 0 or switches.max() >= height * width:
        raise ValueError(f"switches must index a {height}x{width} map; some fall outside it")
    return _unpool(pooled, switches, (height, width))


def _unpool(
    pooled: torch.Tensor, switches: torch.Tensor, output_size: tuple[int, int]
) -> torch.Tensor:
    """:func:`unpool` without its checks, for callers whose switches come from
    :func:`max_pool_with_switches` (a deconvnet unpools at every pooling layer)."""
    height, width = output_size
    n, c = pooled.shape[:2]
    out = pooled.new_zeros(n, c, height * width)
    out.scatter_add_(2, switches.flatten(2), pooled.flatten(2))
    return out.view(n, c, height, width)


def upsample(
    pooled: torch.Tensor,
    output_size: tuple[int, int],
    *,
    mode: str = "nearest",
) -> torch.Tensor:
    """Unpooling *without* switches: spread every pooled value over its region.

    Args:
        pooled: ``(N, C, h, w)`` float tensor.
        output_size: ``(H, W)`` to upsample to.
        mode: ``"nearest"`` copies each value to every pixel of its region;
            ``"average"`` shares it out bilinearly between neighbours (a smooth
            guess). Neither knows where the maximum was.

    Returns:
        ``(N, C, H, W)`` tensor.
    """
    _validate.tensor(pooled, "pooled", ndim=4, shape="(N, C, h, w)", floating=True)
    size = _validate.pair(output_size, "output_size")
    _validate.one_of(mode, "mode", ("nearest", "average"))
    if mode == "nearest":
        return F.interpolate(pooled, size=size, mode="nearest")
    return F.interpolate(pooled, size=size, mode="bilinear", align_corners=False)
