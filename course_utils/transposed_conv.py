"""Convolution as a matrix, and its transpose: the operation Zeiler & Fergus call deconvolution.

A convolution layer (without its bias) is linear: for a fixed input size it is
multiplication by one matrix ``A`` of shape ``(out_numel, in_numel)``. Its
*transpose* ``A.T`` maps the output space back to the input space. Zeiler &
Fergus (2014), Sec. 2.1: "the deconvnet uses transposed versions of the same
filters ... In practice this means flipping each filter vertically and
horizontally." That ``A.T`` is

* the adjoint of ``A``: ``<A x, y> = <x, A.T y>`` for every ``x`` and ``y``;
* what ``torch.nn.functional.conv_transpose2d`` computes with the same weights;
* the gradient of ``conv2d`` with respect to its input (backpropagation);
* *not* the inverse of ``A`` (:func:`deconvolve` computes a least-squares
  inverse, the meaning "deconvolution" has in signal processing).

Contents, in the order the chapter uses them:

* :func:`conv_matrix` -- the matrix ``A`` of a small 2-D convolution, built by
  writing every filter tap at its place, with stride and padding.
* :func:`conv_output_size`, :func:`transposed_output_size`,
  :func:`conv_input_sizes` -- the size arithmetic of Dumoulin & Visin (2016),
  and why a transposed convolution needs ``output_padding`` to know which of
  several input sizes to return.
* :func:`overlap_count` -- how many kernel taps land on each output pixel of a
  transposed convolution: uneven when the kernel size is not divisible by the
  stride, the cause of checkerboard artefacts (Odena et al. 2016).
* :func:`deconvolve` -- undo a convolution (approximately) by least squares,
  for comparison with the transpose.

Like PyTorch, "convolution" here means cross-correlation (the filter is not
flipped): ``out[i, j] = sum_uv weight[u, v] * x[i * stride - padding + u, j * stride - padding + v]``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validate

__all__ = [
    "MAX_MATRIX_MB",
    "conv_input_sizes",
    "conv_matrix",
    "conv_output_size",
    "deconvolve",
    "overlap_count",
    "transposed_output_size",
]


#: The largest dense matrix (or map) this module builds, in MiB. :func:`conv_matrix` of
#: 8 filters of 3x3x3 on a 128x128 image would be 25 GB; raise it for bigger examples
#: with ``course_utils.transposed_conv.MAX_MATRIX_MB = ...``.
MAX_MATRIX_MB = 512


def _check_budget(numel: int, itemsize: int, what: str, argument: str) -> None:
    megabytes = numel * itemsize / 2**20
    if megabytes > MAX_MATRIX_MB:
        raise ValueError(
            f"{argument} gives {what} of {megabytes:,.0f} MiB, more than "
            f"course_utils.transposed_conv.MAX_MATRIX_MB = {MAX_MATRIX_MB:,} MiB: use a smaller "
            "example, or raise the limit if your machine has the memory"
        )


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    """Length of a convolution's output along one axis, in pixels.

    Dumoulin & Visin (2016), relationship 6: ``floor((size + 2 * padding - kernel_size) / stride) + 1``.
    The same formula gives the output size of max pooling (``ceil_mode=False``).
    """
    size = _validate.integer(size, "size", min=1)
    kernel_size = _validate.integer(kernel_size, "kernel_size", min=1)
    stride = _validate.integer(stride, "stride", min=1)
    padding = _validate.integer(padding, "padding", min=0)
    if size + 2 * padding < kernel_size:
        raise ValueError(
            f"size + 2 * padding must be >= kernel_size, got {size} + 2 * {padding} < {kernel_size}"
        )
    return (size + 2 * padding - kernel_size) // stride + 1


def conv_input_sizes(
    output_size: int, kernel_size: int, stride: int = 1, padding: int = 0
) -> list[int]:
    """Every input length that a convolution maps to ``output_size``, in pixels.

    With stride ``s`` the floor in :func:`conv_output_size` sends ``s``
    consecutive input lengths to the same output length, so going back is
    ambiguous: these are the lengths a transposed convolution can return, with
    ``output_padding`` 0, 1, ..., ``s - 1`` (see :func:`transposed_output_size`).
    """
    output_size = _validate.integer(output_size, "output_size", min=1)
    kernel_size = _validate.integer(kernel_size, "kernel_size", min=1)
    stride = _validate.integer(stride, "stride", min=1)
    padding = _validate.integer(padding, "padding", min=0)
    smallest = (output_size - 1) * stride + kernel_size - 2 * padding
    return [size for size in range(smallest, smallest + stride) if size >= 1]


def transposed_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0
) -> int:
    """Length of a transposed convolution's output along one axis, in pixels.

    ``(size - 1) * stride - 2 * padding + kernel_size + output_padding``, as in
    ``torch.nn.ConvTranspose2d`` (Dumoulin & Visin 2016, relationship 14, where
    ``output_padding`` is their ``a``). ``output_padding`` must be smaller than
    ``stride``: it picks one of the :func:`conv_input_sizes`.
    """
    size = _validate.integer(size, "size", min=1)
    kernel_size = _validate.integer(kernel_size, "kernel_size", min=1)
    stride = _validate.integer(stride, "stride", min=1)
    padding = _validate.integer(padding, "padding", min=0)
    output_padding = _validate.integer(output_padding, "output_padding", min=0, max=stride - 1)
    result = (size - 1) * stride - 2 * padding + kernel_size + output_padding
    if result < 1:
        raise ValueError(f"padding {padding} is too large: the output would be {result} pixels")
    return result


def conv_matrix(
    weight: torch.Tensor,
    input_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> torch.Tensor:
    """The matrix ``A`` of the convolution ``F.conv2d(x, weight, stride=stride, padding=padding)``.

    For one image ``x`` of shape ``(C_in, H, W)``,
    ``A @ x.flatten()`` equals ``F.conv2d(x[None], weight, ...).flatten()``:
    row ``(c_out, i, j)`` of ``A`` holds the filter ``weight[c_out]`` written at
    the pixels its window covers for output ``(i, j)``; taps that fall on the
    zero padding are dropped. Rows and columns are numbered like ``flatten()``
    (channel, then row, then column).

    Args:
        weight: ``(C_out, C_in, kH, kW)`` float tensor (no bias: with a bias the
            layer is affine, and ``A`` is its linear part).
        input_size: ``(H, W)`` of the input, in pixels (an int for a square).
        stride, padding: as in ``torch.nn.functional.conv2d``.

    Returns:
        ``(C_out * h * w, C_in * H * W)`` tensor of ``weight``'s dtype and device,
        where ``(h, w)`` is the output size (:func:`conv_output_size`). It is
        built with Python loops: meant for the small examples of the chapter, and
        refused (before anything is allocated) above :data:`MAX_MATRIX_MB`.

    Example:
        >>> conv_matrix(torch.tensor([[[[1.0, 2.0]]]]), (1, 3)).tolist()
        [[1.0, 2.0, 0.0], [0.0, 1.0, 2.0]]
    """
    _validate.tensor(weight, "weight", ndim=4, shape="(C_out, C_in, kH, kW)", floating=True)
    height, width = _validate.pair(input_size, "input_size")
    stride = _validate.pair(stride, "stride")
    padding = _validate.pair(padding, "padding", min=0)
    c_out, c_in, k_h, k_w = weight.shape
    if height + 2 * padding[0] < k_h or width + 2 * padding[1] < k_w:
        raise ValueError(
            f"input_size {(height, width)} with padding {padding} is smaller than the kernel "
            f"{(k_h, k_w)}"
        )
    out_h = (height + 2 * padding[0] - k_h) // stride[0] + 1  # conv_output_size, checked above
    out_w = (width + 2 * padding[1] - k_w) // stride[1] + 1
    numel = c_out * out_h * out_w * c_in * height * width
    _check_budget(numel, weight.element_size(), "a matrix", f"input_size {(height, width)}")

    a = weight.new_zeros(c_out, out_h, out_w, c_in, height, width)
    for i in range(out_h):
        for j in range(out_w):
            for u in range(k_h):
                for v in range(k_w):
                    row = i * stride[0] - padding[0] + u  # input pixel under tap (u, v)
                    col = j * stride[1] - padding[1] + v
                    if 0 <= row < height and 0 <= col < width:
                        a[:, i, j, :, row, col] = weight[:, :, u, v]
    return a.reshape(c_out * out_h * out_w, c_in * height * width)


def overlap_count(
    input_size: int | tuple[int, int],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
) -> torch.Tensor:
    """How many kernel taps land on each output pixel of a transposed convolution.

    A transposed convolution stamps a copy of the kernel, scaled by each input
    value, every ``stride`` pixels of its output. Where the stamps overlap
    unevenly (kernel size not divisible by the stride), even a constant input
    and a constant kernel give an output with a regular pattern: the
    checkerboard of Odena et al. (2016).

    Args:
        input_size: ``(h, w)`` of the transposed convolution's input, in pixels.
        kernel_size, stride: of the transposed convolution (no padding).

    Returns:
        ``(H, W)`` float tensor of counts, ``H = (h - 1) * stride + kernel_size``:
        the output of ``conv_transpose2d`` for an input and a kernel of ones.
    """
    size = _validate.pair(input_size, "input_size")
    kernel_size = _validate.pair(kernel_size, "kernel_size")
    stride = _validate.pair(stride, "stride")
    out = [(n - 1) * s + k for n, s, k in zip(size, stride, kernel_size, strict=True)]
    _check_budget(out[0] * out[1] + size[0] * size[1], 4, "maps", f"input_size {size}")
    ones = torch.ones(1, 1, *size)
    return F.conv_transpose2d(ones, torch.ones(1, 1, *kernel_size), stride=stride)[0, 0]


def deconvolve(
    blurred: torch.Tensor,
    weight: torch.Tensor,
    padding: int | tuple[int, int] = 0,
    *,
    damping: float = 1e-3,
    steps: int = 100,
) -> torch.Tensor:
    """Deconvolution as signal processing means it: the ``x`` whose convolution is ``blurred``.

    Solves the damped least-squares problem ``min_x |A x - b|^2 + damping * |x|^2``
    for ``A`` the convolution ``F.conv2d(., weight, padding=padding)`` (stride 1)
    and ``b = blurred``, by ``steps`` iterations of the conjugate-gradient method
    on the normal equations ``(A.T A + damping I) x = A.T b`` (Nocedal & Wright,
    *Numerical Optimization*, 2nd ed., Algorithm 5.2). ``A`` and ``A.T`` are
    never formed: they are ``conv2d`` and ``conv_transpose2d``. The transpose is
    one ingredient of the inverse, not the inverse itself.

    Args:
        blurred: ``(N, C_out, h, w)`` float tensor, the output of the convolution.
        weight: ``(C_out, C_in, kH, kW)`` float tensor.
        padding: of the convolution; the solution has ``h - 1 + kH - 2 * padding`` rows.
        damping: weight of ``|x|^2`` (> 0); larger values give a smoother,
            less sharp answer and amplify noise less.
        steps: number of conjugate-gradient iterations.

    Returns:
        ``(N, C_in, H, W)`` tensor: the estimate of the convolution's input.
    """
    _validate.tensor(
        blurred, "blurred", ndim=4, shape="(N, C_out, h, w)", floating=True, finite=True
    )
    _validate.tensor(
        weight, "weight", ndim=4, shape="(C_out, C_in, kH, kW)", floating=True, finite=True
    )
    if blurred.shape[1] != weight.shape[0]:
        raise ValueError(
            f"blurred must have weight's {weight.shape[0]} output channels, got {blurred.shape[1]}"
        )
    if blurred.dtype != weight.dtype:
        raise TypeError(
            f"blurred and weight must have the same dtype, got {blurred.dtype} and {weight.dtype}: "
            "convert one, e.g. blurred.to(weight.dtype)"
        )
    _validate.same_device(blurred, "blurred", weight, "weight")
    padding = _validate.pair(padding, "padding", min=0)
    for axis, size, k, p in zip(
        ("rows", "columns"), blurred.shape[-2:], weight.shape[-2:], padding, strict=True
    ):
        if size - 1 + k - 2 * p < 1:  # the solution's size along this axis
            raise ValueError(
                f"padding must be at most {(size + k - 2) // 2} for blurred's {size} {axis} and a "
                f"kernel of {k} (the solution would have {size - 1 + k - 2 * p} {axis}), got {p}"
            )
    damping = _validate.number(damping, "damping", positive=True)
    steps = _validate.integer(steps, "steps", min=1)

    def normal(x: torch.Tensor) -> torch.Tensor:  # (A.T A + damping I) x
        return F.conv_transpose2d(F.conv2d(x, weight, padding=padding), weight, padding=padding) + (
            damping * x
        )

    def dot(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:  # one inner product per image
        return (u * v).sum(dim=(1, 2, 3), keepdim=True)

    tiny = torch.finfo(blurred.dtype).tiny  # keeps 0 / 0 at 0 for an image already solved
    b = F.conv_transpose2d(blurred, weight, padding=padding)  # the right-hand side A.T b
    x = torch.zeros_like(b)
    residual = b  # b - (A.T A + damping I) x, for x = 0
    direction = residual
    for _ in range(steps):
        q = normal(direction)
        rr = dot(residual, residual)
        alpha = rr / dot(direction, q).clamp_min(tiny)  # exact line search along direction
        x = x + alpha * direction
        residual = residual - alpha * q
        direction = residual + dot(residual, residual) / rr.clamp_min(tiny) * direction
    return x
