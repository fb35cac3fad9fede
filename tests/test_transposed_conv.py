"""Tests of course_utils.transposed_conv against PyTorch's conv2d / conv_transpose2d, autograd
(the Jacobian and the input gradient), the adjoint identity, and small examples worked by hand."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import transposed_conv
from course_utils.transposed_conv import (
    conv_input_sizes,
    conv_matrix,
    conv_output_size,
    deconvolve,
    overlap_count,
    transposed_output_size,
)

# (C_out, C_in, kernel, input size, stride, padding): square and non-square, strided,
# padded, kernels divisible by the stride and not.
CASES = [
    (1, 1, (3, 3), (5, 5), 1, 0),
    (1, 1, (3, 3), (5, 5), 2, 1),
    (2, 3, (3, 2), (6, 5), (2, 1), (1, 0)),
    (3, 2, (4, 4), (9, 8), 2, 1),
    (2, 2, (5, 3), (7, 7), 3, 2),
]


def _pair(value):
    return value if isinstance(value, tuple) else (value, value)


def _setup(c_out, c_in, kernel, size, seed=0):
    g = torch.Generator().manual_seed(seed)
    weight = torch.randn(c_out, c_in, *kernel, generator=g, dtype=torch.float64)
    x = torch.randn(1, c_in, *size, generator=g, dtype=torch.float64)
    return weight, x, g


@pytest.mark.parametrize(("c_out", "c_in", "kernel", "size", "stride", "padding"), CASES)
def test_matrix_times_x_equals_conv2d(c_out, c_in, kernel, size, stride, padding):
    weight, x, _ = _setup(c_out, c_in, kernel, size)
    a = conv_matrix(weight, size, stride, padding)
    expected = F.conv2d(x, weight, stride=stride, padding=padding)
    assert a.shape == (expected.numel(), x.numel())
    torch.testing.assert_close(a @ x.flatten(), expected.flatten())


@pytest.mark.parametrize(("c_out", "c_in", "kernel", "size", "stride", "padding"), CASES)
def test_matrix_equals_the_autograd_jacobian(c_out, c_in, kernel, size, stride, padding):
    weight, x, _ = _setup(c_out, c_in, kernel, size)

    def conv(v):
        return F.conv2d(v, weight, stride=stride, padding=padding)

    jacobian = torch.autograd.functional.jacobian(conv, x)  # (1, C_out, h, w, 1, C_in, H, W)
    n_out = conv(x).numel()
    torch.testing.assert_close(
        conv_matrix(weight, size, stride, padding), jacobian.reshape(n_out, x.numel())
    )


@pytest.mark.parametrize(("c_out", "c_in", "kernel", "size", "stride", "padding"), CASES)
def test_transpose_is_the_adjoint_conv_transpose2d_and_the_input_gradient(
    c_out, c_in, kernel, size, stride, padding
):
    weight, x, g = _setup(c_out, c_in, kernel, size)
    a = conv_matrix(weight, size, stride, padding)
    y_shape = F.conv2d(x, weight, stride=stride, padding=padding).shape
    y = torch.randn(y_shape, generator=g, dtype=torch.float64)

    # <A x, y> = <x, A^T y>
    torch.testing.assert_close(
        torch.dot(a @ x.flatten(), y.flatten()), torch.dot(x.flatten(), a.T @ y.flatten())
    )

    # conv_transpose2d with the same weights; output_padding picks the input's size.
    stride2, padding2 = _pair(stride), _pair(padding)
    extra = [
        size[d] - transposed_output_size(y_shape[2 + d], kernel[d], stride2[d], padding2[d])
        for d in range(2)
    ]
    transposed = F.conv_transpose2d(y, weight, stride=stride, padding=padding, output_padding=extra)
    assert transposed.shape == x.shape
    torch.testing.assert_close(a.T @ y.flatten(), transposed.flatten())

    # The gradient of <conv2d(x), y> with respect to x.
    x.requires_grad_(True)
    (gradient,) = torch.autograd.grad(
        F.conv2d(x, weight, stride=stride, padding=padding), x, grad_outputs=y
    )
    torch.testing.assert_close(a.T @ y.flatten(), gradient.flatten())


def test_hand_worked_1d_example_with_stride_and_padding():
    # Kernel (a, b, c) = (1, 2, 3) on a row of 5 pixels, stride 2, padding 1: 3 outputs.
    # Output 0 covers pixels -1, 0, 1 (-1 is padding); output 1 covers 1, 2, 3; output 2 covers 3, 4, 5.
    weight = torch.tensor([[[[1.0, 2.0, 3.0]]]])
    expected = torch.tensor(
        [
            [2.0, 3.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 2.0, 3.0, 0.0],
            [0.0, 0.0, 0.0, 1.0, 2.0],
        ]
    )
    a = conv_matrix(weight, (1, 5), stride=(1, 2), padding=(0, 1))
    torch.testing.assert_close(a, expected)
    # Its transpose spreads y = (1, 10, 100) back: pixel 1 gets 3 * 1 + 1 * 10, pixel 3 gets
    # 3 * 10 + 1 * 100 (uneven overlap: pixels 1 and 3 receive two taps, the others one).
    y = torch.tensor([1.0, 10.0, 100.0])
    torch.testing.assert_close(a.T @ y, torch.tensor([2.0, 13.0, 20.0, 130.0, 200.0]))


def test_hand_worked_3x3_input_2x2_kernel():
    # Kernel [[p, q], [r, s]] = [[1, 2], [3, 4]] over a 3x3 input (pixels numbered 0..8 row by
    # row), stride 1: four outputs, each reading a 2x2 block.
    weight = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = torch.tensor(
        [
            [1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0],  # block at (0, 0): pixels 0, 1, 3, 4
            [0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0],  # block at (0, 1): pixels 1, 2, 4, 5
            [0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0, 0.0],  # block at (1, 0): pixels 3, 4, 6, 7
            [0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0],  # block at (1, 1): pixels 4, 5, 7, 8
        ]
    )
    torch.testing.assert_close(conv_matrix(weight, 3), expected)


def test_stride_1_transpose_is_convolution_with_the_flipped_filter():
    # Zeiler & Fergus, Sec. 2.1: "flipping each filter vertically and horizontally".
    weight, _, g = _setup(2, 3, (3, 3), (6, 6))
    y = torch.randn(1, 2, 4, 4, generator=g, dtype=torch.float64)
    flipped = weight.flip(2, 3).transpose(0, 1)  # (C_in, C_out, kH, kW)
    torch.testing.assert_close(F.conv_transpose2d(y, weight), F.conv2d(y, flipped, padding=2))
    torch.testing.assert_close(
        conv_matrix(weight, 6).T @ y.flatten(), F.conv2d(y, flipped, padding=2).flatten()
    )


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"),
    [(7, 3, 2, 1), (227, 11, 4, 0), (224, 7, 2, 3), (5, 5, 1, 0), (10, 4, 3, 2)],
)
def test_sizes_agree_with_pytorch(size, kernel, stride, padding):
    x = torch.zeros(1, 1, size, 1)
    w = torch.zeros(1, 1, kernel, 1)
    out = F.conv2d(x, w, stride=(stride, 1), padding=(padding, 0)).shape[2]
    assert conv_output_size(size, kernel, stride, padding) == out
    sizes = conv_input_sizes(out, kernel, stride, padding)
    assert size in sizes
    for n in range(1, size + 2 * stride + 1):  # exactly the inputs that give `out`
        if n + 2 * padding >= kernel:
            gives = F.conv2d(
                torch.zeros(1, 1, n, 1), w, stride=(stride, 1), padding=(padding, 0)
            ).shape[2]
            assert (gives == out) == (n in sizes), n
    for extra in range(stride):  # output_padding 0..stride-1 returns each of them, in order
        y = torch.zeros(1, 1, out, 1)
        back = F.conv_transpose2d(
            y, w, stride=(stride, 1), padding=(padding, 0), output_padding=(extra, 0)
        )
        assert (
            transposed_output_size(out, kernel, stride, padding, extra)
            == back.shape[2]
            == sizes[extra]
        )


def test_conv_input_sizes_hand_worked():
    # AlexNet's conv1 (11x11, stride 4, no padding): floor((n - 11) / 4) + 1 = 55 for n = 227..230.
    assert conv_input_sizes(55, 11, 4) == [227, 228, 229, 230]
    # 3x3, stride 2, padding 1: 7 and 8 both give 4.
    assert conv_input_sizes(4, 3, 2, 1) == [7, 8]


def test_overlap_count_against_a_loop_and_by_hand():
    for size, kernel, stride in [
        ((4, 5), (3, 3), (2, 2)),
        ((3, 3), (4, 2), (2, 3)),
        ((2, 6), (11, 11), (4, 4)),
    ]:
        counts = torch.zeros(
            (size[0] - 1) * stride[0] + kernel[0], (size[1] - 1) * stride[1] + kernel[1]
        )
        for i in range(size[0]):
            for j in range(size[1]):
                counts[
                    i * stride[0] : i * stride[0] + kernel[0],
                    j * stride[1] : j * stride[1] + kernel[1],
                ] += 1
        torch.testing.assert_close(overlap_count(size, kernel, stride), counts)
    # Kernel 3, stride 2, 3 inputs in 1-D: stamps at 0-2, 2-4, 4-6 -> 1 1 2 1 2 1 1.
    torch.testing.assert_close(
        overlap_count((1, 3), (1, 3), 2)[0], torch.tensor([1.0, 1, 2, 1, 2, 1, 1])
    )
    # Kernel 4, stride 2: every interior pixel gets exactly 2 stamps (no checkerboard).
    assert set(overlap_count((1, 6), (1, 4), 2)[0, 2:-2].tolist()) == {2.0}


def test_deconvolve_matches_the_least_squares_solution_of_the_explicit_matrix():
    g = torch.Generator().manual_seed(3)
    weight = torch.rand(1, 1, 3, 3, generator=g, dtype=torch.float64)
    x = torch.rand(2, 1, 6, 7, generator=g, dtype=torch.float64)
    blurred = F.conv2d(x, weight, padding=1)
    damping = 1e-2
    a = conv_matrix(weight, (6, 7), padding=1)
    lhs = a.T @ a + damping * torch.eye(a.shape[1], dtype=torch.float64)
    for n in range(2):
        expected = torch.linalg.solve(lhs, a.T @ blurred[n].flatten())
        got = deconvolve(blurred, weight, padding=1, damping=damping, steps=200)[n]
        torch.testing.assert_close(got.flatten(), expected)


def test_deconvolve_recovers_what_the_transpose_does_not():
    # A blur whose frequency response stays >= 0.2 (well conditioned): least squares undoes it.
    g = torch.Generator().manual_seed(4)
    x = torch.rand(1, 1, 12, 12, generator=g, dtype=torch.float64)
    weight = (
        torch.tensor([[[[1.0, 2.0, 1.0], [2.0, 8.0, 2.0], [1.0, 2.0, 1.0]]]], dtype=torch.float64)
        / 20
    )
    blurred = F.conv2d(x, weight, padding=1)
    transposed = F.conv_transpose2d(blurred, weight, padding=1)
    recovered = deconvolve(blurred, weight, padding=1, damping=1e-10, steps=100)
    assert (recovered - x).abs().max() < 1e-6
    assert (transposed - x).abs().max() > 0.05  # the transpose blurs a second time


def test_bad_inputs_raise_errors_naming_the_argument():
    w = torch.ones(1, 1, 3, 3)
    with pytest.raises(ValueError, match="^weight"):
        conv_matrix(torch.ones(3, 3), 5)
    with pytest.raises(TypeError, match="^weight"):
        conv_matrix(torch.ones(1, 1, 3, 3, dtype=torch.int64), 5)
    with pytest.raises(ValueError, match="^input_size"):
        conv_matrix(w, 2)
    with pytest.raises(ValueError, match="^input_size"):
        conv_matrix(w, (5, 5, 5))
    with pytest.raises(ValueError, match="^stride"):
        conv_matrix(w, 5, stride=0)
    with pytest.raises(ValueError, match="^padding"):
        conv_matrix(w, 5, padding=-1)
    with pytest.raises(TypeError, match="^stride"):
        conv_matrix(w, 5, stride=1.5)
    with pytest.raises(ValueError, match="^output_padding"):
        transposed_output_size(4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="^size"):
        conv_output_size(2, 5)
    with pytest.raises(TypeError, match="^kernel_size"):
        conv_input_sizes(4, "3")
    with pytest.raises(ValueError, match="^kernel_size"):
        overlap_count(3, 0)
    with pytest.raises(ValueError, match="^blurred"):
        deconvolve(torch.ones(1, 2, 4, 4), w)
    with pytest.raises(ValueError, match="^damping"):
        deconvolve(torch.ones(1, 1, 4, 4), w, damping=0)


def test_conv_matrix_refuses_a_matrix_over_the_budget_before_allocating(monkeypatch):
    """Issue 24: conv_matrix(torch.rand(8, 3, 3, 3), 128) asked for 25 GB at once."""
    allocated = []
    monkeypatch.setattr(torch.Tensor, "new_zeros", lambda *a, **k: allocated.append(a))
    with pytest.raises(
        ValueError, match=r"^input_size \(128, 128\) gives a matrix of 23,814 MiB.*MAX_MATRIX_MB"
    ):
        conv_matrix(torch.rand(8, 3, 3, 3), 128)
    assert allocated == []


def test_the_budget_can_be_raised(monkeypatch):
    weight = torch.rand(2, 1, 3, 3)
    monkeypatch.setattr(
        transposed_conv, "MAX_MATRIX_MB", 0.001
    )  # 1 KiB: 2 x 9 x 1 x 25 x 4 bytes is more
    with pytest.raises(ValueError, match="MAX_MATRIX_MB"):
        conv_matrix(weight, 5)
    monkeypatch.setattr(transposed_conv, "MAX_MATRIX_MB", 1)
    assert conv_matrix(weight, 5).shape == (18, 25)
    with pytest.raises(ValueError, match="^input_size .* maps of"):
        overlap_count(100_000, 3, 2)


def test_deconvolve_names_mixed_dtypes_devices_and_too_much_padding():
    weight = torch.rand(3, 2, 3, 3)
    blurred = torch.rand(1, 3, 4, 4)
    with pytest.raises(TypeError, match="^blurred and weight must have the same dtype"):
        deconvolve(blurred.double(), weight)
    with pytest.raises(ValueError, match="^padding must be at most 2 .* got 3"):
        deconvolve(blurred, weight, padding=3)
    assert deconvolve(blurred, weight, padding=2, steps=2).shape == (1, 2, 2, 2)  # the limit works
    with pytest.raises(ValueError, match="^blurred is on the meta device"):
        deconvolve(blurred.to("meta"), weight.to("meta"))
    with pytest.raises(ValueError, match="^blurred must hold finite values"):
        deconvolve(blurred * float("nan"), weight)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_deconvolve_and_conv_matrix_on_cuda():
    weight = torch.rand(3, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    blurred = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(1))
    on_gpu = deconvolve(blurred.cuda(), weight.cuda(), steps=20)
    assert on_gpu.is_cuda
    torch.testing.assert_close(
        on_gpu.cpu(), deconvolve(blurred, weight, steps=20), rtol=1e-3, atol=1e-4
    )
    assert conv_matrix(weight.cuda(), 4).is_cuda
    with pytest.raises(ValueError, match="^blurred is on cuda"):
        deconvolve(blurred.cuda(), weight)


def test_docstring_examples():
    import doctest

    assert doctest.testmod(transposed_conv).failed == 0
