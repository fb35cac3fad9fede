"""AlexNet and ZFNet as their papers describe them, and small versions that train on a CPU.

* :func:`alexnet` -- Krizhevsky, Sutskever & Hinton (2012), "ImageNet Classification
  with Deep Convolutional Neural Networks", Sec. 3 and Fig. 2.
  ``variant="torchvision"`` gives torchvision's AlexNet (the single-GPU "one weird
  trick" variant of Krizhevsky 2014) for comparison and for its ImageNet weights.
* :func:`zfnet` -- Zeiler & Fergus (2013/2014), "Visualizing and Understanding
  Convolutional Networks", Sec. 3 and Fig. 3.
* :class:`LocalResponseNorm` -- the paper's equation (Krizhevsky et al. 2012, Sec. 3.3).
* :func:`renormalize_filters_` -- ZFNet's rule (Zeiler & Fergus, Sec. 3.1).
* :func:`small_alexnet` / :func:`small_zfnet` -- the same two first layers on
  Fashion-MNIST, for training on a laptop CPU.
* :func:`layer_table` -- output shape, parameters and multiply-adds per layer (torchinfo).
* :func:`load_pretrained` -- the small models' checkpoints shipped with ``course_utils``;
  :func:`load_imagenet_alexnet` -- torchvision's ImageNet weights, when online.
* :func:`filter_spectra`, :func:`energy_above`, :func:`first_layer_aliasing` -- where
  the first layer's energy lies in frequency, and how much of it a stride aliases.

Why 227 and not 224? AlexNet's paper says its input is 224x224x3 and its first layer
has 96 kernels of 11x11 with stride 4, giving 55x55 maps. Without padding, a 224 input
gives ``(224 - 11) // 4 + 1 = 54``; the arithmetic only works for ``(55 - 1) * 4 + 11 =
227``. Implementations either feed 227x227 crops (Caffe) or pad by 2 (torchvision).
:func:`alexnet` with ``variant="paper"`` uses no padding and expects 227x227 inputs.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "CHECKPOINTS",
    "IMAGENET_ALEXNET_URL",
    "SMALL_INPUT_SIZE",
    "LocalResponseNorm",
    "SmallNet",
    "aliased_fraction",
    "alexnet",
    "checkpoint_dir",
    "checkpoint_history",
    "energy_above",
    "filter_spectra",
    "first_layer_aliasing",
    "imagenet_top5",
    "layer_table",
    "load_imagenet_alexnet",
    "load_pretrained",
    "renormalize_filters_",
    "small_alexnet",
    "small_zfnet",
    "spectrum_frequencies",
    "zfnet",
]

_VARIANTS = ("paper", "torchvision")


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

    Input and output: ``(N, C, H, W)`` float tensors of the same shape.
    """

    def __init__(self, size: int = 5, alpha: float = 1e-4, beta: float = 0.75, k: float = 2.0):
        super().__init__()
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        for name, value in (("alpha", alpha), ("beta", beta), ("k", k)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        self.size, self.alpha, self.beta, self.k = size, float(alpha), float(beta), float(k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"x must be a (N, C, H, W) tensor, got shape {tuple(x.shape)}")
        half = self.size // 2
        squares = F.pad(x.pow(2), (0, 0, 0, 0, half, half))  # zero channels at both ends
        # Sum of squares over channels j = i - n/2 .. i + n/2 (n/2 rounded down).
        window = squares.unfold(1, 2 * half + 1, 1).sum(dim=-1)
        return x / (self.k + self.alpha * window).pow(self.beta)

    def extra_repr(self) -> str:
        return f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class AlexNetPaper(nn.Module):
    """AlexNet as in Krizhevsky et al. (2012), Sec. 3.5 and Fig. 2; input ``(N, 3, 227, 227)``.

    ``groups=2`` where the paper's two GPUs each saw only their own half of the
    previous layer's maps (conv2, conv4, conv5); conv3 and the fully connected
    layers see all maps ("the kernels of the third convolutional layer are
    connected to all kernel maps in the second layer").
    """

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 96, kernel_size=11, stride=4),  # conv1: 96 x 11x11x3, stride 4 -> 55x55
            nn.ReLU(inplace=True),
            LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),  # Sec. 3.3
            nn.MaxPool2d(kernel_size=3, stride=2),  # overlapping pooling, Sec. 3.4 -> 27x27
            nn.Conv2d(96, 256, kernel_size=5, padding=2, groups=2),  # conv2: 256 x 5x5x48
            nn.ReLU(inplace=True),
            LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 13x13
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # conv3: 384 x 3x3x256 (dense)
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1, groups=2),  # conv4: 384 x 3x3x192
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1, groups=2),  # conv5: 256 x 3x3x192
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),  # -> 6x6
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),  # dropout in the first two fully connected layers, Sec. 4.2
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class ZFNet(nn.Module):
    """ZFNet as in Zeiler & Fergus (2014), Fig. 3; input ``(N, 3, 224, 224)``.

    Feature maps 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6, as in Fig. 3. The paper
    does not give the padding; padding 1 in conv1 and pooling that rounds up
    (``ceil_mode=True``, as in Caffe) reproduce the figure's sizes. All
    connections are dense (one GPU). "Contrast normalized across feature maps"
    after pooling in layers 1 and 2: the paper gives no constants, so we use
    AlexNet's local response normalisation with AlexNet's constants.
    """

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(
                3, 96, kernel_size=7, stride=2, padding=1
            ),  # layer 1: 96 x 7x7, stride 2 -> 110
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # 3x3 max pool, stride 2 -> 55
            LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),  # contrast norm.
            nn.Conv2d(96, 256, kernel_size=5, stride=2),  # layer 2: 256 x 5x5, stride 2 -> 26
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # -> 13
            LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0),
            nn.Conv2d(256, 384, kernel_size=3, padding=1),  # layer 3: 384 x 3x3 -> 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 384, kernel_size=3, padding=1),  # layer 4: 384 x 3x3 -> 13
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),  # layer 5: 256 x 3x3 -> 13
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # -> 6
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),  # layers 6 and 7: 4096 units each, dropout 0.5 (Sec. 3)
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, num_classes),  # C-class softmax (in the loss)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def _check_num_classes(num_classes: int) -> None:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")


def alexnet(variant: str = "paper", num_classes: int = 1000) -> nn.Module:
    """AlexNet, untrained, with ``features`` and ``classifier`` ``nn.Sequential`` blocks.

    Args:
        variant: ``"paper"`` for Krizhevsky et al. (2012) (:class:`AlexNetPaper`,
            input ``(N, 3, 227, 227)``, 60,965,224 parameters for 1000 classes);
            ``"torchvision"`` for ``torchvision.models.alexnet(weights=None)``
            (64/192/384/256/256 filters, no normalisation, no groups, padding 2 in
            conv1 so that 224x224 inputs work, an adaptive average pool to 6x6).
        num_classes: size of the last layer.

    Returns:
        The model; its output is ``(N, num_classes)`` unnormalised class scores.
    """
    if variant not in _VARIANTS:
        raise ValueError(f"variant must be one of {_VARIANTS}, got {variant!r}")
    _check_num_classes(num_classes)
    if variant == "paper":
        return AlexNetPaper(num_classes)
    import torchvision

    return torchvision.models.alexnet(weights=None, num_classes=num_classes)


def zfnet(num_classes: int = 1000) -> nn.Module:
    """ZFNet (Zeiler & Fergus 2014, Fig. 3), untrained; input ``(N, 3, 224, 224)``.

    See :class:`ZFNet`. Train it with :func:`renormalize_filters_` after each
    optimiser step, as the paper did.
    """
    _check_num_classes(num_classes)
    return ZFNet(num_classes)


#: The small models take Fashion-MNIST's 28x28 images and resize them to this size first.
SMALL_INPUT_SIZE = 64


class SmallNet(nn.Module):
    """A five-conv, three-FC network in AlexNet's shape, sized for 64x64 grey images.

    Use :func:`small_alexnet` or :func:`small_zfnet`. Input: ``(N, 1, H, W)``
    float images in [0, 1] (e.g. Fashion-MNIST's 28x28); ``forward`` first
    resizes them to ``SMALL_INPUT_SIZE`` x ``SMALL_INPUT_SIZE`` (bilinear), so an
    11x11 kernel covers about as much of a garment as it would of an ImageNet
    object. Output: ``(N, num_classes)`` class scores.

    The two small models differ only where the two papers differ in their first
    layers, and in what follows from it:

    ============ ====================== ======================
    \\            small_alexnet          small_zfnet
    ============ ====================== ======================
    conv1        11x11, stride 4, pad 2 7x7, stride 2, pad 1
    conv1 maps   15x15                  30x30
    after pool1  7x7                    15x15
    conv2        5x5, stride 1, pad 2   5x5, stride 2, pad 0
    after pool2  3x3                    3x3
    ============ ====================== ======================

    ZFNet's stride-2 conv2 brings its larger maps back to AlexNet's size, exactly
    as in the full networks (27 vs 55 after pool1, 13 for both after pool2).
    Everything else is shared: 32/48/64/64/48 filters, ReLU, AlexNet's local
    response normalisation after conv1 and conv2 (then pooling), 3x3 stride-2 max
    pooling, dense connections, fully connected 128-128-10 with dropout 0.5, and
    He et al.'s (2015) initialisation.
    """

    def __init__(self, first: str, num_classes: int = 10):
        super().__init__()
        if first == "alexnet":
            conv1 = nn.Conv2d(1, 32, kernel_size=11, stride=4, padding=2)
            conv2 = nn.Conv2d(32, 48, kernel_size=5, stride=1, padding=2)
        elif first == "zfnet":
            conv1 = nn.Conv2d(1, 32, kernel_size=7, stride=2, padding=1)
            conv2 = nn.Conv2d(32, 48, kernel_size=5, stride=2, padding=0)
        else:
            raise ValueError(f"first must be 'alexnet' or 'zfnet', got {first!r}")
        self.input_size = SMALL_INPUT_SIZE
        self.features = nn.Sequential(
            conv1,
            nn.ReLU(inplace=True),
            LocalResponseNorm(),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            conv2,
            nn.ReLU(inplace=True),
            LocalResponseNorm(),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),
            nn.Conv2d(48, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(64, 48, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True),  # 3x3 -> 1x1
        )
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(48, 128),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(128, 128),
            nn.ReLU(inplace=True),
            nn.Linear(128, num_classes),
        )
        # He et al. (2015) initialisation instead of the papers' N(0, 0.01): without
        # it this eight-layer network (no batch norm) does not start learning
        # within a few CPU epochs.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def resize(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1, H, W)`` images -> ``(N, 1, 64, 64)``, bilinear (as the network sees them)."""
        if x.dim() != 4:
            raise ValueError(f"x must be a (N, C, H, W) tensor, got shape {tuple(x.shape)}")
        size = (self.input_size, self.input_size)
        if tuple(x.shape[-2:]) == size:
            return x
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(self.resize(x)), 1))


def small_alexnet(num_classes: int = 10) -> SmallNet:
    """AlexNet's first layer (11x11, stride 4) in a small network for 1-channel images.

    See :class:`SmallNet` for the side-by-side comparison with :func:`small_zfnet`.
    """
    _check_num_classes(num_classes)
    return SmallNet("alexnet", num_classes)


def small_zfnet(num_classes: int = 10) -> SmallNet:
    """ZFNet's first layer (7x7, stride 2) in a small network for 1-channel images.

    See :class:`SmallNet` for the side-by-side comparison with :func:`small_alexnet`.
    """
    _check_num_classes(num_classes)
    return SmallNet("zfnet", num_classes)


@torch.no_grad()
def renormalize_filters_(model: nn.Module, max_rms: float = 0.1) -> int:
    """Rescale, in place, every conv filter whose RMS exceeds ``max_rms`` to RMS ``max_rms``.

    Zeiler & Fergus (2014), Sec. 3.1: "We renormalize each filter in the
    convolutional layers whose RMS value exceeds a fixed radius of 1e-1 to this
    fixed radius." A filter is one output channel's weights, ``weight[o]`` of
    shape ``(C_in / groups, kH, kW)``; its RMS is ``sqrt(mean(weight[o] ** 2))``.
    Biases and fully connected layers are left alone. Call it after each
    optimiser step.

    Returns:
        How many filters were rescaled.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(max_rms, (int, float)) or isinstance(max_rms, bool) or max_rms <= 0:
        raise ValueError(f"max_rms must be a positive number, got {max_rms!r}")
    rescaled = 0
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            weight = module.weight
            rms = weight.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt()
            too_big = rms > max_rms
            scale = torch.where(too_big, max_rms / rms, torch.ones_like(rms))
            weight.mul_(scale)
            rescaled += int(too_big.sum())
    return rescaled


def layer_table(
    model: nn.Module, input_size: tuple[int, ...], *, batch_size: int = 1
) -> pd.DataFrame:
    """One row per layer with parameters: output shape, parameters and multiply-adds.

    Built with ``torchinfo.summary`` (not a hand-written counter). Rows are the
    leaf layers (convolutions, ReLUs, pools, ...) in the order they run.

    Args:
        model: the network.
        input_size: shape of one input without the batch, e.g. ``(3, 227, 227)``.
        batch_size: the batch torchinfo runs (multiply-adds are for the whole batch).

    Tip: build large models under ``with torch.device("meta"):`` to get their table
    without allocating their weights.

    Returns:
        A DataFrame with columns ``layer`` (e.g. ``"features.0 Conv2d"``),
        ``output shape`` (``C x H x W``), ``parameters``, and ``MACs`` -- multiply-
        accumulate operations (torchinfo's "mult-adds"); one MAC is a multiply and
        an add, so FLOPs are about 2 x MACs. The last row is the total.
    """
    import torchinfo

    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(input_size, (tuple, list)) or not all(
        isinstance(s, int) and s > 0 for s in input_size
    ):
        raise ValueError(f"input_size must be a tuple of positive ints, got {input_size!r}")
    names = {id(module): name for name, module in model.named_modules()}
    # A model built under ``with torch.device("meta"):`` has shapes but no weights in
    # memory; torchinfo then runs on the meta device too.
    device = next(model.parameters()).device
    stats = torchinfo.summary(
        model, input_size=(batch_size, *input_size), verbose=0, device=device, mode="eval"
    )
    rows = []
    for info in stats.summary_list:
        if not info.is_leaf_layer or info.depth == 0:
            continue
        rows.append(
            {
                "layer": f"{names.get(info.layer_id, info.var_name)} {info.class_name}",
                "output shape": " x ".join(str(s) for s in info.output_size[1:]),
                "parameters": int(info.num_params),
                "MACs": int(info.macs),
            }
        )
    rows.append(
        {
            "layer": "total",
            "output shape": "",
            "parameters": int(stats.total_params),
            "MACs": int(stats.total_mult_adds),
        }
    )
    return pd.DataFrame(rows)


#: The shipped checkpoints, by name -> (builder, file name, sha256 of the file).
#: ``python scripts/train_checkpoints.py`` rewrites them (it prints the hashes).
CHECKPOINTS = {
    "small_alexnet": (
        small_alexnet,
        "small_alexnet.pt",
        "sha256:1ea6491341a4c7201cb56c5e2c1bc346a88607701d878079510fe9c776f7f9b3",
    ),
    "small_zfnet": (
        small_zfnet,
        "small_zfnet.pt",
        "sha256:51e5de2f6ddd1e819f45e0c705c3630ac8e163af651e9c5f80b3f513deca1e29",
    ),
}


def checkpoint_dir() -> Path:
    """Folder of the shipped checkpoints: ``course_utils/_data/checkpoints``."""
    return Path(str(resources.files("course_utils") / "_data" / "checkpoints"))


def checkpoint_history() -> pd.DataFrame:
    """The training history of the shipped checkpoints (``history.csv``, one row per model and epoch).

    Columns as returned by :func:`course_utils.train.fit` plus ``model``; accuracies
    are fractions, ``seconds`` the wall-clock time per epoch on the machine that
    trained them (shared, so only a rough guide).
    """
    return pd.read_csv(checkpoint_dir() / "history.csv")


def load_pretrained(name: str, *, path: str | Path | None = None) -> nn.Module:
    """A small model with the weights shipped with ``course_utils``, in eval mode.

    Args:
        name: ``"small_alexnet"`` or ``"small_zfnet"`` (trained on the embedded
            Fashion-MNIST subset by ``scripts/train_checkpoints.py``).
        path: read the checkpoint from here instead of the shipped file (the
            checksum is still the shipped one).

    The file's SHA-256 is checked before anything is read by PyTorch, and the
    file is read with ``torch.load(..., weights_only=True)`` (tensors only, no
    code), so a corrupted or tampered file is refused and nothing is loaded.

    Raises:
        ValueError: unknown ``name``.
        FileNotFoundError: the checkpoint file is missing.
        course_utils.download.ChecksumError: the file is not the shipped one.
    """
    from .download import ChecksumError, file_checksum

    if name not in CHECKPOINTS:
        raise ValueError(f"name must be one of {sorted(CHECKPOINTS)}, got {name!r}")
    builder, filename, expected = CHECKPOINTS[name]
    path = Path(path) if path is not None else checkpoint_dir() / filename
    if not path.is_file():
        raise FileNotFoundError(
            f"checkpoint {name!r} not found at {path}; reinstall course_utils or run "
            "`python scripts/train_checkpoints.py`"
        )
    actual = file_checksum(path, "sha256")
    if actual != expected:
        raise ChecksumError(
            f"checkpoint {name!r} at {path} has checksum {actual}, expected {expected}: "
            "the file is corrupted or not the shipped one; nothing was loaded"
        )
    model = builder()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def filter_spectra(weight: torch.Tensor, size: int = 64) -> torch.Tensor:
    """Power spectra of convolution filters, in cycles per input pixel.

    Args:
        weight: ``(F, C, k, k)`` filters (e.g. ``model.features[0].weight``).
        size: the filters are zero-padded to ``size x size`` before the 2-D DFT,
            so filters of different sizes land on the same frequency grid.

    Returns:
        ``(F, size, size)`` float tensor: ``|DFT|^2`` summed over the input
        channels, with zero frequency in the centre (``fftshift``). The
        frequency of row/column ``i`` is ``spectrum_frequencies(size)[i]``
        cycles per pixel, from -0.5 to just under 0.5 (the Nyquist frequency
        of the input grid).
    """
    if not isinstance(weight, torch.Tensor) or weight.dim() != 4:
        raise ValueError("weight must be a (F, C, k, k) tensor")
    if not isinstance(size, int) or size < max(weight.shape[-2:]):
        raise ValueError(f"size must be an int at least the filter size, got {size!r}")
    spectrum = torch.fft.fft2(weight.detach().double(), s=(size, size))
    power = spectrum.abs().pow(2).sum(dim=1)
    return torch.fft.fftshift(power, dim=(-2, -1)).float()


def spectrum_frequencies(size: int = 64) -> torch.Tensor:
    """The ``(size,)`` frequencies (cycles per pixel) of :func:`filter_spectra`'s rows and columns."""
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
    if not isinstance(power, torch.Tensor) or power.ndim < 2:
        raise TypeError(f"power must be a (..., size, size) tensor, got {type(power).__name__}")
    if not 0 < cutoff <= 0.5:
        raise ValueError(f"cutoff must be in (0, 0.5] cycles per pixel, got {cutoff!r}")
    total = power.sum(dim=(-2, -1))
    if (total <= 0).any():
        raise ValueError("power must have some energy in every spectrum (one sums to zero)")
    freqs = spectrum_frequencies(power.shape[-1]).abs()
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
        model: a :class:`SmallNet` (``small_alexnet()`` or ``small_zfnet()``).
        images: ``(N, 1, H, W)`` float images in [0, 1].

    Returns:
        A fraction in [0, 1].
    """
    if not isinstance(model, SmallNet):
        raise TypeError(f"model must be a SmallNet, got {type(model).__name__}")
    conv = model.features[0]
    power = torch.zeros(model.input_size, model.input_size, dtype=torch.float64)
    for chunk in images.split(16):  # 16 images at a time keeps memory small
        responses = F.conv2d(model.resize(chunk), conv.weight, padding=conv.kernel_size[0] // 2)
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
    if not isinstance(maps, torch.Tensor) or maps.dim() != 4:
        raise ValueError("maps must be a (N, C, H, W) tensor")
    if not isinstance(stride, int) or stride < 1:
        raise ValueError(f"stride must be a positive int, got {stride!r}")
    power = torch.zeros(maps.shape[-2:], dtype=torch.float64)
    for chunk in maps.split(16):  # 16 images at a time keeps memory small
        chunk = chunk.double() - chunk.double().mean(dim=(-2, -1), keepdim=True)
        power += torch.fft.fft2(chunk).abs().pow(2).sum(dim=(0, 1))
    return float(energy_above(torch.fft.fftshift(power), 0.5 / stride))


#: torchvision's ImageNet AlexNet weights ("one weird trick" variant, 233 MB).
IMAGENET_ALEXNET_URL = "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"


def load_imagenet_alexnet(
    url: str = IMAGENET_ALEXNET_URL, *, folder: str | Path | None = None
) -> nn.Module | None:
    """torchvision's ImageNet-trained AlexNet, or ``None`` (with one printed line) when offline.

    The weights are fetched once into ``folder`` (default: the course's download
    cache, :func:`course_utils.download.cache_dir`) and read with
    ``torch.load(..., weights_only=True)``.

    **What is verified, honestly:** torchvision publishes only the first 8 hex
    digits of the file's SHA-256, in its name (``alexnet-owt-7be5be79.pth``),
    not the full digest, so this function cannot use
    :func:`course_utils.download.download` (which needs a full checksum). It
    uses PyTorch's own ``torch.hub.download_url_to_file(..., hash_prefix=...)``,
    which writes to a temporary file, checks that the SHA-256 *starts with*
    those 8 digits, and only then moves the file into place -- the check
    torchvision itself does. Eight hex digits (32 bits) catch a truncated or
    corrupted download, not a deliberately forged file.

    Raises:
        RuntimeError: the file's SHA-256 does not start with the prefix in its name.
    """
    import re
    import urllib.error

    from .download import cache_dir

    name = url.rsplit("/", 1)[-1]
    match = re.search(r"-([a-f0-9]{8,})\.", name)
    if match is None:
        raise ValueError(f"url must end in a file name with a SHA-256 prefix, got {url!r}")
    path = Path(folder) if folder is not None else cache_dir() / "torchvision"
    path = path / name
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(
                url, str(path), hash_prefix=match.group(1), progress=False
            )
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            reason = getattr(err, "reason", None) or err
            print(
                f"Offline: skipped downloading the ImageNet AlexNet weights: "
                f"could not download {url} ({reason})."
            )
            return None
    model = alexnet("torchvision")
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


@torch.no_grad()
def imagenet_top5(model: nn.Module, photo) -> list[tuple[str, float]]:
    """The five most probable ImageNet classes of ``photo`` for an ImageNet ``model``.

    Args:
        model: e.g. from :func:`load_imagenet_alexnet`.
        photo: ``(H, W, 3)`` uint8 array, e.g. :func:`course_utils.data.sample_photo`.

    The photo is prepared as torchvision's AlexNet weights expect (resize the
    short side to 256, centre crop 224x224, normalise with ImageNet's mean and
    standard deviation; ``AlexNet_Weights.IMAGENET1K_V1.transforms()``).

    Returns:
        Five ``(class name, probability)`` pairs, most probable first.
    """
    import numpy as np
    from torchvision.models import AlexNet_Weights

    from .data import imagenet_class_names

    photo = np.asarray(photo)
    if photo.ndim != 3 or photo.shape[-1] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be an (H, W, 3) uint8 array, got {photo.shape} {photo.dtype}")
    x = torch.from_numpy(photo).permute(2, 0, 1)
    x = AlexNet_Weights.IMAGENET1K_V1.transforms()(x).unsqueeze(0)
    probabilities = model.eval()(x).softmax(dim=1)[0]
    top = probabilities.topk(5)
    names = imagenet_class_names()
    return [(names[i], float(p)) for p, i in zip(top.values, top.indices, strict=True)]
