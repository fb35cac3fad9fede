"""The networks after ZFNet, one idea each: VGG's 3x3 stacks, Inception, residual and SE blocks.

* :func:`conv_stack` -- VGG's stack of small convolutions against one large one
  (Simonyan & Zisserman 2015, Sec. 2.3).
* :class:`NaiveInception` and :class:`Inception` -- GoogLeNet's module without and
  with 1x1 reductions (Szegedy et al. 2015, Sec. 4 and Fig. 2).
* :class:`BuildingBlock`, :func:`plain_net`, :func:`residual_net` -- the small
  "plain" and residual networks He et al. (2016) trained on CIFAR-10 (Sec. 4.2),
  here for Fashion-MNIST's 28x28 grey images, to show the degradation problem.
* :func:`se_resnet50` -- torchvision's ResNet-50 with a squeeze-and-excitation block
  (``torchvision.ops.SqueezeExcitation``) in every residual branch (Hu et al. 2018).
* ``ilsvrc_networks()`` -- depth and parameters of the challenge's landmark networks,
  built with random weights on the meta device (drawn by
  :func:`course_utils.history_figures.plot_networks_by_year`).

The full-size networks come from torchvision with ``weights=None``: nothing is
downloaded. Build them under ``with torch.device("meta"):`` to count their
parameters without allocating them.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.ops import SqueezeExcitation

from . import _validate
from .models import alexnet, zfnet
from .timeline import load_results

__all__ = [
    "BuildingBlock",
    "Inception",
    "NaiveInception",
    "SmallResNet",
    "conv_stack",
    "ilsvrc_networks",
    "load_degradation_histories",
    "plain_net",
    "residual_net",
    "se_resnet50",
]


class BuildingBlock(nn.Module):
    """He et al.'s (2016) "building block" (Fig. 2): two 3x3 conv + batch-norm layers.

    ``F(x) = BN(conv(ReLU(BN(conv(x)))))`` is :meth:`residual_function`; the block
    returns ``ReLU(F(x) + x)`` with ``residual=True`` (Eq. 1, the second ReLU after
    the addition) and ``ReLU(F(x))`` with ``residual=False`` (the paper's "plain"
    counterpart: the same layers, no shortcut).

    Where the block halves the maps (``stride=2``) and widens them, the shortcut is
    the paper's option A (Sec. 3.3): keep every second pixel and pad the new channels
    with zeros, so the shortcut has no parameters.

    Input ``(N, in_channels, H, W)``; output ``(N, out_channels, ceil(H / stride), ceil(W / stride))``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True):
        super().__init__()
        in_channels = _validate.integer(in_channels, "in_channels", min=1)
        self.out_channels = _validate.integer(out_channels, "out_channels", min=in_channels)
        self.stride = _validate.integer(stride, "stride", min=1)
        self.residual = _validate.flag(residual, "residual")
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def residual_function(self, x: torch.Tensor) -> torch.Tensor:
        """``F(x)``: what the two layers compute, before the shortcut is added."""
        return self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The identity, subsampled and zero-padded to ``F(x)``'s shape (option A)."""
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.out_channels - x.shape[1]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.residual_function(x)
        if self.residual:
            out = out + self.shortcut(x)
        return F.relu(out)

    def extra_repr(self) -> str:
        return f"residual={self.residual}"


class SmallResNet(nn.Module):
    """He et al.'s (2016) CIFAR-10 networks (Sec. 4.2), plain or residual, ``depth = 6n + 2``.

    The paper's table: a 3x3 convolution with 16 filters, then three stages of ``n``
    building blocks (``2n`` layers) with 16, 32 and 64 filters on maps of 32, 16 and 8
    pixels, subsampling by stride-2 convolutions; then global average pooling and a
    fully connected layer: ``6n + 2`` weight layers. Batch normalisation after every
    convolution, He initialisation. With 28x28 Fashion-MNIST images the maps are 28,
    14 and 7 pixels.

    Input ``(N, in_channels, H, W)`` float images; output ``(N, num_classes)`` scores.
    """

    def __init__(
        self,
        depth: int,
        residual: bool,
        *,
        widths: tuple[int, int, int] = (16, 32, 64),
        in_channels: int = 1,
        num_classes: int = 10,
    ):
        super().__init__()
        depth = _validate.integer(depth, "depth", min=8)
        if (depth - 2) % 6:
            raise ValueError(f"depth must be 6n + 2 (8, 14, 20, 26, 32, 44, 56, ...), got {depth}")
        widths = _validate.items(widths, "widths", _validate.integer, "three ints", min=1)
        if len(widths) != 3:
            raise ValueError(f"widths must be three ints (one per stage), got {len(widths)}")
        in_channels = _validate.integer(in_channels, "in_channels", min=1)
        num_classes = _validate.integer(num_classes, "num_classes", min=1)
        n = (depth - 2) // 6
        self.depth, self.residual = depth, _validate.flag(residual, "residual")
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        blocks, channels = [], widths[0]
        for stage, width in enumerate(widths):
            for index in range(n):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(BuildingBlock(channels, width, stride, residual))
                channels = width
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, num_classes)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)))


def plain_net(depth: int, **kwargs) -> SmallResNet:
    """The "plain" network of ``depth`` weight layers: :class:`SmallResNet` without shortcuts."""
    return SmallResNet(depth, residual=False, **kwargs)


def residual_net(depth: int, **kwargs) -> SmallResNet:
    """The residual network of ``depth`` weight layers (ResNet-20 for ``depth=20``, ...)."""
    return SmallResNet(depth, residual=True, **kwargs)


def load_degradation_histories() -> pd.DataFrame:
    """Training histories of plain and residual networks, shipped with ``course_utils``.

    Written by ``scripts/train_degradation.py`` (its docstring gives the recipe): one
    row per ``network`` (``"plain"`` or ``"residual"``), ``depth``, ``seed`` and
    ``epoch``, with ``train_loss`` (mean cross-entropy over the epoch's steps, nats),
    ``train_accuracy`` (fraction right during the epoch), ``test_accuracy``
    (fraction, after the epoch) and ``seconds``.
    """
    with (resources.files("course_utils") / "_data" / "degradation.csv").open("r") as f:
        return pd.read_csv(f)


def conv_stack(channels: int, kernel_size: int = 3, layers: int = 1) -> nn.Sequential:
    """``layers`` convolutions of ``kernel_size`` with ``channels`` in and out, each with a ReLU.

    Simonyan & Zisserman (2015), Sec. 2.3: "a stack of three 3x3 conv. layers ... has
    a 7x7 effective receptive field", with ``3 (3^2 C^2) = 27 C^2`` weights against
    ``7^2 C^2 = 49 C^2`` for one 7x7 layer, and three ReLUs instead of one. Padding
    keeps the map size, as in VGG. Input and output ``(N, channels, H, W)``.
    """
    channels = _validate.integer(channels, "channels", min=1)
    kernel_size = _validate.integer(kernel_size, "kernel_size", min=1)
    layers = _validate.integer(layers, "layers", min=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (the map keeps its size), got {kernel_size}")
    stack = []
    for _ in range(layers):
        stack += [nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2), nn.ReLU()]
    return nn.Sequential(*stack)


def _conv_relu(in_channels: int, out_channels: int, kernel_size: int) -> nn.Sequential:
    padding = kernel_size // 2  # "same" padding: every branch keeps the map size
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding), nn.ReLU()
    )


class NaiveInception(nn.Module):
    """The "naive" Inception module (Szegedy et al. 2015, Fig. 2a): no 1x1 reductions.

    1x1, 3x3 and 5x5 convolutions (each with a ReLU) and a 3x3 max pooling (stride 1)
    run side by side on the same input; their outputs are concatenated along the
    channels. The pooling branch keeps all ``in_channels``, so the output has
    ``ch1x1 + ch3x3 + ch5x5 + in_channels`` channels: stacking such modules makes the
    maps ever thicker, and the 5x5 convolutions on many channels expensive -- the
    problem the paper's Sec. 4 describes.

    Input ``(N, in_channels, H, W)``; output ``(N, out_channels, H, W)``.
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int):
        super().__init__()
        for value, name in (
            (in_channels, "in_channels"),
            (ch1x1, "ch1x1"),
            (ch3x3, "ch3x3"),
            (ch5x5, "ch5x5"),
        ):
            _validate.integer(value, name, min=1)
        self.branch1 = _conv_relu(in_channels, ch1x1, 1)
        self.branch3 = _conv_relu(in_channels, ch3x3, 3)
        self.branch5 = _conv_relu(in_channels, ch5x5, 5)
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + in_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.pool(x)], dim=1)


class Inception(nn.Module):
    """The Inception module with dimension reductions (Szegedy et al. 2015, Fig. 2b).

    Four branches on the same input, concatenated along the channels: a 1x1
    convolution (``ch1x1`` filters); a 1x1 "reduction" to ``ch3x3red`` channels, then
    a 3x3 convolution (``ch3x3``); a 1x1 reduction to ``ch5x5red``, then a 5x5
    convolution (``ch5x5``); a 3x3 max pooling (stride 1), then a 1x1 "projection"
    (``pool_proj``). Every convolution has a ReLU. The arguments are the columns of
    the paper's Table 1, e.g. inception (3a) is ``Inception(192, 64, 96, 128, 16, 32, 32)``.

    torchvision's ``googlenet`` has the same module with batch normalisation and, in
    its "5x5" branch, a 3x3 convolution (a known difference kept for its weights).

    Input ``(N, in_channels, H, W)``; output ``(N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W)``.
    """

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ):
        super().__init__()
        sizes = {"in_channels": in_channels, "ch1x1": ch1x1, "ch3x3red": ch3x3red, "ch3x3": ch3x3}
        sizes |= {"ch5x5red": ch5x5red, "ch5x5": ch5x5, "pool_proj": pool_proj}
        for name, value in sizes.items():
            _validate.integer(value, name, min=1)
        self.branch1 = _conv_relu(in_channels, ch1x1, 1)
        self.branch3 = nn.Sequential(
            _conv_relu(in_channels, ch3x3red, 1), _conv_relu(ch3x3red, ch3x3, 3)
        )
        self.branch5 = nn.Sequential(
            _conv_relu(in_channels, ch5x5red, 1), _conv_relu(ch5x5red, ch5x5, 5)
        )
        self.pool = nn.Sequential(
            nn.MaxPool2d(3, stride=1, padding=1), _conv_relu(in_channels, pool_proj, 1)
        )
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch3(x), self.branch5(x), self.pool(x)], dim=1)


def se_resnet50(num_classes: int = 1000, reduction: int = 16) -> nn.Module:
    """SE-ResNet-50 (Hu et al. 2018, Fig. 3): torchvision's ResNet-50 with SE blocks, untrained.

    In every bottleneck block, the residual branch's output ``U`` (after its last
    batch norm, before the shortcut is added) goes through a squeeze-and-excitation
    block, ``torchvision.ops.SqueezeExcitation(C, C // reduction)``: average ``U``
    over the map ("squeeze", one number per channel), two fully connected layers
    ``C -> C / r -> C`` with a ReLU and a sigmoid ("excitation", one weight in (0, 1)
    per channel), then multiply each channel of ``U`` by its weight. ``r = 16`` as in
    the paper. Input ``(N, 3, H, W)``; output ``(N, num_classes)``.
    """
    num_classes = _validate.integer(num_classes, "num_classes", min=1)
    reduction = _validate.integer(reduction, "reduction", min=1)
    model = torchvision.models.resnet50(weights=None, num_classes=num_classes)
    for module in model.modules():
        if isinstance(module, torchvision.models.resnet.Bottleneck):
            channels = module.bn3.num_features
            module.bn3 = nn.Sequential(
                module.bn3, SqueezeExcitation(channels, channels // reduction)
            )
    return model


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _chain_depth(model: nn.Module) -> int:
    """Weight layers of a network that is one chain of layers: its convolutions and linear layers."""
    return sum(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules())


def ilsvrc_networks() -> pd.DataFrame:
    """The challenge's landmark networks: year, entry, network, depth and parameters.

    Parameters are counted here, on networks built with random weights on the meta
    device (nothing allocated, nothing downloaded): AlexNet and ZFNet as their papers
    describe them (:mod:`course_utils.models`), torchvision's GoogLeNet (without its
    training-only auxiliary classifiers), VGG-16 and ResNet-152.

    Depth is counted in weight layers along the longest path. AlexNet, ZFNet and
    VGG-16 are single chains, so their depth is counted here (convolutions plus
    linear layers: 8, 8 and 16). GoogLeNet's and ResNet-152's paths branch, and
    their depth is the paper's own count, read from the results table
    (:func:`course_utils.timeline.load_results`, the winners' rows of 2014 and
    2015: 22 and 152), the one place the course stores it.

    ``rank`` is the classification rank of the entry the network belongs to
    (1 = winner, 2 = runner-up). ZFNet has rank 0: it is the network of Zeiler
    and Fergus's paper, an architecture of 2013, not the network of the 2013
    winner (Clarifai, whose networks were not published). The 2016 winner was an
    ensemble of different networks and SENet-154 (2017) is not in torchvision, so
    neither has a row.

    Returns:
        A DataFrame with one row per network and the columns ``year``, ``rank``,
        ``team``, ``network``, ``depth`` and ``parameters``.

    Example::

        >>> table = ilsvrc_networks()
        >>> table[["network", "depth"]].values.tolist()[:2]
        [['AlexNet', 8], ['ZFNet', 8]]
    """
    results = load_results()
    paper_depth = results[(results["task"] == "classification") & (results["rank"] == 1)]
    paper_depth = paper_depth[paper_depth["outside_data"] == "no"].set_index("year")["depth"]
    builders = [  # year, rank, team, network, build, depth (None: count the chain)
        (2012, 1, "SuperVision", "AlexNet", lambda: alexnet("paper"), None),
        (2013, 0, "Zeiler & Fergus (paper)", "ZFNet", zfnet, None),
        (
            2014,
            1,
            "GoogLeNet",
            "GoogLeNet",
            lambda: torchvision.models.googlenet(
                weights=None, aux_logits=False, init_weights=False
            ),
            int(paper_depth[2014]),
        ),
        (2014, 2, "VGG", "VGG-16", lambda: torchvision.models.vgg16(weights=None), None),
        (
            2015,
            1,
            "MSRA",
            "ResNet-152",
            lambda: torchvision.models.resnet152(weights=None),
            int(paper_depth[2015]),
        ),
    ]
    rows = []
    with torch.device("meta"):
        for year, rank, team, network, build, depth in builders:
            model = build()
            rows.append(
                {
                    "year": year,
                    "rank": rank,
                    "team": team,
                    "network": network,
                    "depth": _chain_depth(model) if depth is None else depth,
                    "parameters": _count(model),
                }
            )
    return pd.DataFrame(rows)
