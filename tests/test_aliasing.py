"""Tests of course_utils.aliasing against NumPy's FFT and hand-worked spectra."""

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.aliasing import energy_above, filter_spectra, first_layer_aliasing
from course_utils.models import small_zfnet


def test_filter_spectra_against_numpy():

    weight = torch.randn(4, 3, 7, 7, generator=torch.Generator().manual_seed(0))
    ours = filter_spectra(weight, size=16).numpy()
    w = weight.numpy().astype(np.float64)
    numpy_power = (np.abs(np.fft.fft2(w, s=(16, 16))) ** 2).sum(axis=1)
    np.testing.assert_allclose(ours, np.fft.fftshift(numpy_power, axes=(-2, -1)), rtol=1e-5)


def test_energy_above_on_a_flat_spectrum():
    # A one-pixel filter has a flat spectrum. On an 8-point grid the frequencies are
    # -0.5, -0.375, ..., 0.375; |f| <= 0.25 holds for 5 of them, so 25 of 64 points
    # are inside the square and 39 / 64 above the cutoff.
    delta = torch.zeros(1, 1, 3, 3)
    delta[0, 0, 1, 1] = 1.0
    power = filter_spectra(delta, size=8)
    torch.testing.assert_close(power, torch.ones(1, 8, 8))
    assert energy_above(power, 0.25).item() == pytest.approx(39 / 64)
    assert energy_above(power, 0.5).item() == 0.0


def _delta_zfnet() -> nn.Module:
    model = small_zfnet()  # stride 2: Nyquist 0.25 cycles/pixel after subsampling
    with torch.no_grad():
        model.features[0].weight.zero_()
        model.features[0].weight[:, 0, 3, 3] = 1.0  # every filter passes the image through
    return model


def test_first_layer_aliasing_of_a_delta_filter_is_the_images_own():

    model = _delta_zfnet()
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    x = model.resize(images).numpy()[:, 0].astype(np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.fft.fftshift((np.abs(np.fft.fft2(x)) ** 2).sum(axis=0))
    f = np.abs(np.fft.fftshift(np.fft.fftfreq(64)))
    above = np.maximum(f[:, None], f[None, :]) > 0.25
    expected = power[above].sum() / power.sum()
    assert first_layer_aliasing(model, images) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("cycles", "expected"), [(20, 1.0), (8, 0.0)])
def test_first_layer_aliasing_of_pure_cosines(cycles, expected):
    # 64x64 images pass unresized. 20 cycles over 64 pixels = 0.3125 cycles/pixel, above
    # stride 2's Nyquist 0.25: all of it aliases; 8 cycles = 0.125: none of it does.
    x = torch.arange(64, dtype=torch.float64)
    image = 0.5 + 0.5 * torch.cos(2 * torch.pi * cycles * x / 64)
    images = image.expand(64, 64)[None, None].float()
    assert first_layer_aliasing(_delta_zfnet(), images) == pytest.approx(expected, abs=1e-6)


def test_aliased_fraction_by_stride():
    # 6 cycles over 64 pixels = 0.094 cycles/pixel: below stride 4's Nyquist (0.125), above stride 8's.
    x = torch.arange(64, dtype=torch.float64)
    maps = torch.cos(2 * torch.pi * 6 * x / 64).expand(64, 64)[None, None]
    assert cu.aliasing.aliased_fraction(maps, 4) == pytest.approx(0.0, abs=1e-9)
    assert cu.aliasing.aliased_fraction(maps, 8) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^stride"):
        cu.aliasing.aliased_fraction(maps, 0)


def test_energy_above_rejects_empty_spectra():
    with pytest.raises(ValueError, match="^power must have some energy"):
        energy_above(torch.zeros(2, 8, 8), 0.25)
    with pytest.raises(TypeError, match="^power must be"):
        energy_above([[1.0]], 0.25)
