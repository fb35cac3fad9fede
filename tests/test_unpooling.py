"""Tests of course_utils.unpooling against a max-pooling loop written here, autograd's gradient of
max_pool2d, the adjoint identity, scikit-image's resize, and small examples worked by hand."""

from contextlib import contextmanager

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from skimage.transform import resize

from course_utils.unpooling import max_pool_with_switches, unpool, upsample

# (input size, kernel, stride, padding, ceil_mode): AlexNet's and ZFNet's overlapping 3x3 / 2
# (ZFNet's with ceil_mode), padded, non-overlapping, and non-square.
CASES = [
    ((13, 13), 3, 2, 0, False),
    ((13, 13), 3, 2, 0, True),
    ((12, 11), 3, 2, 1, False),
    ((12, 11), 3, 2, 1, True),
    ((8, 8), 2, 2, 0, False),
    ((9, 10), (3, 2), (2, 1), (1, 0), True),
    ((5, 6), 2, 2, 1, True),  # ceil_mode would start a window in the right padding: dropped
]


def _pool_by_loop(x, kernel, stride, padding, ceil_mode):
    """Max pooling of one (H, W) map written out: max and flat index of each window."""
    (kh, kw), (sh, sw), (ph, pw) = (
        (v, v) if isinstance(v, int) else v for v in (kernel, stride, padding)
    )
    height, width = x.shape
    rounding = np.ceil if ceil_mode else np.floor
    out_h = int(rounding((height + 2 * ph - kh) / sh)) + 1
    out_w = int(rounding((width + 2 * pw - kw) / sw)) + 1
    # PyTorch's rule: the last window must start inside the input or the left padding.
    if ceil_mode and (out_h - 1) * sh >= height + ph:
        out_h -= 1
    if ceil_mode and (out_w - 1) * sw >= width + pw:
        out_w -= 1
    values = torch.empty(out_h, out_w, dtype=x.dtype)
    switches = torch.empty(out_h, out_w, dtype=torch.int64)
    for i in range(out_h):
        for j in range(out_w):
            best = None
            for r in range(i * sh - ph, i * sh - ph + kh):
                for c in range(j * sw - pw, j * sw - pw + kw):
                    if 0 <= r < height and 0 <= c < width and (best is None or x[r, c] > best[0]):
                        best = (x[r, c], r * width + c)
            values[i, j], switches[i, j] = best
    return values, switches


def _random(size, seed=0):
    # Continuous random values: no ties, so every window has one well-defined maximum.
    return torch.randn(
        2, 3, *size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64
    )


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "ceil_mode"), CASES)
def test_switches_match_a_pooling_loop(size, kernel, stride, padding, ceil_mode):
    x = _random(size)
    pooled, switches = max_pool_with_switches(x, kernel, stride, padding, ceil_mode=ceil_mode)
    for n in range(2):
        for c in range(3):
            values, where = _pool_by_loop(x[n, c], kernel, stride, padding, ceil_mode)
            torch.testing.assert_close(pooled[n, c], values)
            torch.testing.assert_close(switches[n, c], where)


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "ceil_mode"), CASES)
def test_unpool_equals_the_autograd_gradient_of_max_pool2d(
    size, kernel, stride, padding, ceil_mode
):
    x = _random(size).requires_grad_(True)
    pooled, switches = max_pool_with_switches(x, kernel, stride, padding, ceil_mode=ceil_mode)
    signal = torch.randn(
        pooled.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    reference = F.max_pool2d(x, kernel, stride, padding, ceil_mode=ceil_mode)
    (gradient,) = torch.autograd.grad(reference, x, grad_outputs=signal)
    torch.testing.assert_close(unpool(signal, switches, size), gradient)


@pytest.mark.parametrize(("size", "kernel", "stride", "padding", "ceil_mode"), CASES)
def test_unpool_is_the_adjoint_of_pooling_with_fixed_switches(
    size, kernel, stride, padding, ceil_mode
):
    # For fixed switches, pooling is the linear map "read x at each switch" (a gather);
    # <gather(x), y> = <x, unpool(y)> for all x and y.
    x = _random(size)
    _, switches = max_pool_with_switches(x, kernel, stride, padding, ceil_mode=ceil_mode)
    g = torch.Generator().manual_seed(2)
    other = torch.randn(x.shape, generator=g, dtype=torch.float64)
    y = torch.randn(switches.shape, generator=g, dtype=torch.float64)
    gathered = other.flatten(2).gather(2, switches.flatten(2))
    torch.testing.assert_close(
        (gathered * y.flatten(2)).sum(), (other * unpool(y, switches, size)).sum()
    )


def test_hand_worked_2x2_windows():
    x = torch.tensor(
        [[[[1.0, 5.0, 2.0, 0.0], [3.0, 4.0, 8.0, 1.0], [0.0, 2.0, 1.0, 1.0], [9.0, 1.0, 3.0, 7.0]]]]
    )
    pooled, switches = max_pool_with_switches(x, 2)
    # Window (0, 0) holds 1 5 / 3 4: max 5 at pixel (0, 1) = flat 1; window (0, 1): 8 at (1, 2) = 6;
    # window (1, 0): 9 at (3, 0) = 12; window (1, 1): 7 at (3, 3) = 15.
    torch.testing.assert_close(pooled, torch.tensor([[[[5.0, 8.0], [9.0, 7.0]]]]))
    assert switches.tolist() == [[[[1, 6], [12, 15]]]]
    expected = torch.zeros(1, 1, 4, 4)
    expected[0, 0, 0, 1], expected[0, 0, 1, 2], expected[0, 0, 3, 0], expected[0, 0, 3, 3] = (
        5,
        8,
        9,
        7,
    )
    torch.testing.assert_close(unpool(pooled, switches, (4, 4)), expected)


def test_hand_worked_overlapping_windows_share_a_switch():
    # 5x5 input, 3x3 windows, stride 2: windows start at rows/columns 0 and 2, so all four
    # contain the centre pixel (2, 2) = flat index 12. Make it the largest value.
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 9.0
    x[0, 0, 0, 0] = 1.0
    pooled, switches = max_pool_with_switches(x, 3, 2)
    assert switches.tolist() == [[[[12, 12], [12, 12]]]]
    signal = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    unpooled = unpool(signal, switches, (5, 5))
    expected = torch.zeros(1, 1, 5, 5)
    expected[0, 0, 2, 2] = 1 + 2 + 3 + 4  # every window sends its value to the centre
    torch.testing.assert_close(unpooled, expected)
    # F.max_unpool2d writes instead of adding: one window's value survives, the rest are lost.
    # Which one is not specified, so PyTorch refuses it in deterministic mode (seed_everything).
    with _deterministic(False):
        written = F.max_unpool2d(signal, switches, 3, 2, output_size=(5, 5))
    assert written[0, 0, 2, 2].item() in {1.0, 2.0, 3.0, 4.0}
    assert written.sum().item() < unpooled.sum().item() == 10.0


@contextmanager
def _deterministic(mode: bool):
    """``torch.use_deterministic_algorithms(mode)`` inside the block, the setting before after it."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(mode)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)


def test_unpool_runs_in_deterministic_mode_forward_and_backward():
    # What a chapter does after seed_everything(): overlapping windows share switches, so
    # unpool adds several values into one pixel (scatter_add_, deterministic on the CPU).
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 9.0
    signal = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], requires_grad=True)
    with _deterministic(True):
        pooled, switches = max_pool_with_switches(x, 3, 2)
        unpooled = unpool(signal, switches, (5, 5))
        unpooled.sum().backward()
        with pytest.raises(RuntimeError, match="deterministic"):  # what the course avoids
            F.max_unpool2d(signal, switches, 3, 2, output_size=(5, 5))
    assert unpooled[0, 0, 2, 2].item() == 10.0 and unpooled.sum().item() == 10.0
    torch.testing.assert_close(signal.grad, torch.ones(1, 1, 2, 2))  # each value lands once


def test_shared_switches_are_common_with_overlapping_pooling_and_absent_without():
    x = _random((27, 27))
    _, overlapping = max_pool_with_switches(x, 3, 2)
    _, disjoint = max_pool_with_switches(x, 2, 2)
    for n in range(2):
        for c in range(3):
            flat = overlapping[n, c].flatten()
            assert len(flat.unique()) < len(flat)  # some pixel won two or more windows
            assert len(disjoint[n, c].flatten().unique()) == disjoint[n, c].numel()


def test_upsample_average_matches_scikit_image_bilinear():
    pooled = _random((4, 5))[:1, :1]
    for size in [(8, 10), (13, 11)]:
        reference = resize(pooled[0, 0].numpy(), size, order=1, mode="edge", anti_aliasing=False)
        np.testing.assert_allclose(upsample(pooled, size, mode="average")[0, 0].numpy(), reference)


def test_upsample_nearest_copies_each_value_over_its_region():
    pooled = _random((3, 4))
    # Integer factor: every value fills a 2x3 block.
    blocks = pooled.repeat_interleave(2, dim=2).repeat_interleave(3, dim=3)
    torch.testing.assert_close(upsample(pooled, (6, 12)), blocks)
    # Any size: output pixel i copies pooled pixel floor(i * h / H), PyTorch's "nearest" rule.
    out = upsample(pooled, (7, 9))
    for i in range(7):
        for j in range(9):
            torch.testing.assert_close(out[:, :, i, j], pooled[:, :, i * 3 // 7, j * 4 // 9])


def test_upsample_keeps_no_switch_information():
    # Two inputs with the same maxima at different places pool to the same map; upsampling
    # cannot tell them apart, unpooling with switches can.
    a, b = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
    a[0, 0, 0, 0], b[0, 0, 1, 1] = 1.0, 1.0
    (pa, sa), (pb, sb) = max_pool_with_switches(a, 2), max_pool_with_switches(b, 2)
    torch.testing.assert_close(pa, pb)
    torch.testing.assert_close(upsample(pa, (4, 4)), upsample(pb, (4, 4)))
    torch.testing.assert_close(unpool(pa, sa, (4, 4)), a)
    torch.testing.assert_close(unpool(pb, sb, (4, 4)), b)


def test_bad_inputs_raise_errors_naming_the_argument():
    x = torch.rand(1, 2, 6, 6)
    pooled, switches = max_pool_with_switches(x, 2)
    with pytest.raises(ValueError, match="^x"):
        max_pool_with_switches(torch.rand(6, 6), 2)
    with pytest.raises(TypeError, match="^x"):
        max_pool_with_switches(torch.ones(1, 1, 6, 6, dtype=torch.int64), 2)
    with pytest.raises(ValueError, match="^kernel_size"):
        max_pool_with_switches(x, 0)
    with pytest.raises(ValueError, match="^padding"):
        max_pool_with_switches(x, 3, padding=-1)
    with pytest.raises(TypeError, match="^ceil_mode"):
        max_pool_with_switches(x, 3, ceil_mode="yes")
    with pytest.raises(ValueError, match="^switches"):
        unpool(pooled, switches.int(), (6, 6))
    with pytest.raises(ValueError, match="^switches"):
        unpool(pooled, switches[:, :1], (6, 6))
    with pytest.raises(ValueError, match="^switches"):
        unpool(pooled, switches, (4, 4))  # indices up to 35 do not fit a 4x4 map
    with pytest.raises(ValueError, match="^output_size"):
        unpool(pooled, switches, (6, 6, 6))
    with pytest.raises(TypeError, match="^pooled"):
        unpool(switches, switches, (6, 6))
    with pytest.raises(ValueError, match="^mode"):
        upsample(pooled, (6, 6), mode="bicubic")
    with pytest.raises(ValueError, match="^output_size"):
        upsample(pooled, 0)


def test_padding_over_half_the_kernel_and_a_kernel_over_the_input_are_named():
    """Issue 24: both gave PyTorch's RuntimeError."""
    x = torch.rand(1, 2, 6, 6)
    with pytest.raises(ValueError, match="^padding must be at most half of kernel_size"):
        max_pool_with_switches(x, 2, padding=2)
    with pytest.raises(ValueError, match="^kernel_size .* larger than x's height 6"):
        max_pool_with_switches(x, 7)
    assert max_pool_with_switches(x, 2, padding=1)[0].shape == (1, 2, 4, 4)  # the limit works


def test_unpool_names_meta_and_mixed_devices():
    pooled, switches = max_pool_with_switches(torch.rand(1, 2, 6, 6), 2)
    with pytest.raises(ValueError, match="^switches is on the meta device"):
        unpool(pooled.to("meta"), switches.to("meta"), (6, 6))
    with pytest.raises(ValueError, match="^switches is on cpu but pooled is on meta"):
        unpool(pooled.to("meta"), switches, (6, 6))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_pool_and_unpool_on_cuda():
    x = torch.rand(2, 3, 9, 9, generator=torch.Generator().manual_seed(0))
    pooled, switches = max_pool_with_switches(x.cuda(), 3, 2)
    out = unpool(pooled, switches, (9, 9))
    assert out.is_cuda
    torch.testing.assert_close(out.cpu(), unpool(*max_pool_with_switches(x, 3, 2), (9, 9)))


def test_docstring_examples():
    import doctest

    import course_utils.unpooling

    assert doctest.testmod(course_utils.unpooling).failed == 0
