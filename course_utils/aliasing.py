"""Where a first layer's energy lies in frequency, and how much of it a stride aliases.

The AlexNet vs ZFNet chapter's argument (Zeiler & Fergus 2014, Sec. 4.1): AlexNet's
11x11 filters with stride 4 leave "aliasing artifacts" in the 2nd-layer features;
ZFNet's 7x7 filters with stride 2 fewer. A stride ``s`` keeps every ``s``-th sample,
so the part of a response above the new Nyquist frequency ``1 / (2 s)`` cycles per
pixel folds back onto lower frequencies.

* :func:`filter_spectra`, :func:`spectrum_frequencies` -- power spectra of filters.
* :func:`energy_above` -- the share of a spectrum above a cut-off frequency.
* :func:`first_layer_aliasing`, :func:`aliased_fraction` -- the aliased share of
  responses and maps.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import _validate
from .models import SmallNet

__all__ = [
    "aliased_fraction",
    "energy_above",
    "filter_spectra",
    "first_layer_aliasing",
    "spectrum_frequencies",
]

#: The largest frequency grid: 1024 x 1024 already resolves 1/1000 cycle per pixel.
MAX_SIZE = 1024


def filter_spectra(weight: torch.Tensor, size: int = 64) -> torch.Tensor:
    """Power spectra of convolution filters, in cycles per input pixel.

    Args:
        weight: ``(F, C, k, k)`` filters (e.g. ``model.features[0].weight``).
        size: the filters are zero-padded to ``size x size`` before the 2-D DFT,
            so filters of different sizes land on the same frequency grid
            (at most ``MAX_SIZE`` = 1024).

    Returns:
        ``(F, size, size)`` float tensor: ``|DFT|^2`` summed over the input
        channels, with zero frequency in the centre (``fftshift``). The
        frequency of row/column ``i`` is ``spectrum_frequencies(size)[i]``
        cycles per pixel, from -0.5 to just under 0.5 (the Nyquist frequency
        of the input grid).
    """
    _validate.tensor(weight, "weight", ndim=4, shape="(F, C, k, k)", finite=True)
    size = _validate.integer(size, "size", min=max(weight.shape[-2:]), max=MAX_SIZE)
    spectrum = torch.fft.fft2(weight.detach().double(), s=(size, size))
    power = spectrum.abs().pow(2).sum(dim=1)
    return torch.fft.fftshift(power, dim=(-2, -1)).float()


def spectrum_frequencies(size: int = 64) -> torch.Tensor:
    """The ``(size,)`` frequencies (cycles per pixel) of :func:`filter_spectra`'s rows and columns."""
    size = _validate.integer(size, "size", min=1, max=MAX_SIZE)
    return torch.fft.fftshift(torch.fft.fftfreq(size))


def energy_above(power: torch.Tensor, cutoff: float) -> torch.Tensor:
    """Fraction of each spectrum's energy at frequencies above ``cutoff`` cycles per pixel.

    ``power`` is ``(..., size, size)`` as returned by :func:`filter_spectra`. A
    frequency ``(fy, fx)`` counts as above when ``max(|fy|, |fx|) > cutoff``:
    subsampling by a stride ``s`` in both directions keeps exactly the square
    ``|fy|, |fx| <= 1 / (2 s)`` (the new Nyquist frequency) and folds everything
    outside it back inside -- that folded energy is aliasing.

    Returns:
        ``power.shape[:-2]`` tensor of fractions in [0, 1].
    """
    _validate.tensor(power, "power", shape="(..., size, size)", finite=True)
    if power.ndim < 2:
        raise ValueError(
            f"power must be a (..., size, size) tensor, got shape {tuple(power.shape)}"
        )
    cutoff = _validate.number(cutoff, "cutoff", positive=True, max=0.5)
    total = power.sum(dim=(-2, -1))
    if (total <= 0).any():
        raise ValueError("power must have some energy in every spectrum (one sums to zero)")
    freqs = spectrum_frequencies(power.shape[-1]).abs().to(power.device)
    outside = torch.maximum(freqs[:, None], freqs[None, :]) > cutoff
    return (power * outside).sum(dim=(-2, -1)) / total


@torch.no_grad()
def first_layer_aliasing(model: SmallNet, images: torch.Tensor) -> float:
    """Fraction of the first layer's response energy that its stride aliases, on ``images``.

    A convolution with stride ``s`` is the same as the convolution with stride 1
    followed by keeping every ``s``-th row and column. This computes the stride-1
    responses of every first-layer filter (no bias) to ``images`` (as the model
    sees them, resized), removes each response map's mean (zero frequency, which
    no stride can alias and which would otherwise dominate), and returns the
    fraction of the remaining energy above the Nyquist frequency ``1 / (2 s)`` of
    the subsampled grid (see :func:`energy_above`): the part of the response's
    variation that the subsampling folds onto lower frequencies.

    Args:
        model: a :class:`~course_utils.models.SmallNet` (``small_alexnet()`` or ``small_zfnet()``).
        images: ``(N, 1, H, W)`` float images in [0, 1].

    Returns:
        A fraction in [0, 1].
    """
    _validate.instance(model, "model", SmallNet, "a SmallNet (small_alexnet() or small_zfnet())")
    shape = "(N, 1, H, W) (for an ImageSet: dataset.tensors()[0])"
    _validate.tensor(images, "images", ndim=4, shape=shape, floating=True, finite=True)
    if images.shape[1] != 1:
        raise ValueError(f"images must have 1 channel, got shape {tuple(images.shape)}")
    conv = model.features[0]
    device = conv.weight.device
    power = torch.zeros(model.input_size, model.input_size, dtype=torch.float64, device=device)
    for chunk in images.split(16):  # 16 images at a time keeps memory small
        chunk = model.resize(chunk.to(device))
        responses = F.conv2d(chunk, conv.weight.detach(), padding=conv.kernel_size[0] // 2)
        responses = responses.double() - responses.double().mean(dim=(-2, -1), keepdim=True)
        power += torch.fft.fft2(responses).abs().pow(2).sum(dim=(0, 1))
    return float(energy_above(torch.fft.fftshift(power), 0.5 / conv.stride[0]))


def aliased_fraction(maps: torch.Tensor, stride: int) -> float:
    """Fraction of the variation energy of ``maps`` that keeping every ``stride``-th pixel aliases.

    Args:
        maps: ``(N, C, H, W)`` images or feature maps, sampled at stride 1.
        stride: the subsampling factor ``s`` (same in both directions).

    Each map's mean (zero frequency, which no stride can alias) is removed; the
    power spectra of all maps are summed, and the share of the energy above
    ``1 / (2 s)`` cycles per pixel in either direction is returned
    (:func:`energy_above`).
    """
    _validate.tensor(maps, "maps", ndim=4, shape="(N, C, H, W)", floating=True, finite=True)
    stride = _validate.integer(stride, "stride", min=1)
    power = torch.zeros(maps.shape[-2:], dtype=torch.float64, device=maps.device)
    for chunk in maps.split(16):  # 16 images at a time keeps memory small
        chunk = chunk.double() - chunk.double().mean(dim=(-2, -1), keepdim=True)
        power += torch.fft.fft2(chunk).abs().pow(2).sum(dim=(0, 1))
    return float(energy_above(torch.fft.fftshift(power), 0.5 / stride))
