"""AlexNet and ZFNet as their papers describe them, and small versions that train on a CPU.

* :func:`alexnet` -- Krizhevsky, Sutskever & Hinton (2012), "ImageNet Classification
  with Deep Convolutional Neural Networks", Sec. 3 and Fig. 2.
  ``variant="torchvision"`` gives torchvision's AlexNet (the single-GPU "one weird
  trick" variant of Krizhevsky 2014) for comparison and for its ImageNet weights.
* :func:`zfnet` -- Zeiler & Fergus (2013/2014), "Visualizing and Understanding
  Convolutional Networks", Sec. 3 and Fig. 3.
* :func:`small_alexnet` / :func:`small_zfnet` -- the same two first layers on
  Fashion-MNIST, for training on a laptop CPU.
* :func:`load_pretrained` -- the small models' checkpoints shipped with ``course_utils``;
  :func:`load_imagenet_alexnet` -- torchvision's ImageNet weights, when online, and
  :func:`imagenet_top5`, its five most probable classes for a photo.

Each architecture sits here with its weights, as in torchvision's ``models``. The
layers and rules they use live in modules named after them:
:class:`course_utils.normalization.LocalResponseNorm` and ZFNet's filter rule
:func:`course_utils.train.renormalize_filters_`.

Why 227 and not 224? AlexNet's paper says its input is 224x224x3 and its first layer
has 96 kernels of 11x11 with stride 4, giving 55x55 maps. Without padding, a 224 input
gives ``(224 - 11) // 4 + 1 = 54``; the arithmetic only works for ``(55 - 1) * 4 + 11 =
227``. Implementations either feed 227x227 crops (Caffe) or pad by 2 (torchvision).
:func:`alexnet` with ``variant="paper"`` uses no padding and expects 227x227 inputs.
"""

from __future__ import annotations

import contextlib
import io
import pickle
import re
import urllib.error
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models import AlexNet_Weights

from . import _validate
from ._state import device_of, dtype_of, model_left_as_found
from .data import imagenet_class_names
from .download import ChecksumError, file_checksum
from .normalization import LocalResponseNorm

__all__ = [
    "CHECKPOINTS",
    "IMAGENET_ALEXNET_URL",
    "SMALL_INPUT_SIZE",
    "SmallNet",
    "alexnet",
    "by_name",
    "checkpoint_dir",
    "checkpoint_history",
    "imagenet_top5",
    "load_checkpoint",
    "load_imagenet_alexnet",
    "load_pretrained",
    "small_alexnet",
    "small_zfnet",
    "zfnet",
]

_VARIANTS = ("paper", "torchvision")


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


def _check_num_classes(num_classes: int) -> int:
    return _validate.integer(num_classes, "num_classes", min=1)


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
    _validate.one_of(variant, "variant", _VARIANTS)
    _check_num_classes(num_classes)
    if variant == "paper":
        return AlexNetPaper(num_classes)
    return torchvision.models.alexnet(weights=None, num_classes=num_classes)


def zfnet(num_classes: int = 1000) -> nn.Module:
    """ZFNet (Zeiler & Fergus 2014, Fig. 3), untrained; input ``(N, 3, 224, 224)``.

    See :class:`ZFNet`. Train it with :func:`course_utils.train.renormalize_filters_`
    after each optimiser step, as the paper did (``fit(..., after_step=...)``).
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
        _validate.one_of(first, "first", ("alexnet", "zfnet"))
        _check_num_classes(num_classes)
        if first == "alexnet":
            conv1 = nn.Conv2d(1, 32, kernel_size=11, stride=4, padding=2)
            conv2 = nn.Conv2d(32, 48, kernel_size=5, stride=1, padding=2)
        else:
            conv1 = nn.Conv2d(1, 32, kernel_size=7, stride=2, padding=1)
            conv2 = nn.Conv2d(32, 48, kernel_size=5, stride=2, padding=0)
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
        _validate.tensor(x, "x", ndim=4, shape="(N, C, H, W)", floating=True)
        return self._resize(x)

    def _resize(self, x: torch.Tensor) -> torch.Tensor:
        size = (self.input_size, self.input_size)
        if tuple(x.shape[-2:]) == size:
            return x
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(self._resize(x)), 1))


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
    _validate.one_of(name, "name", sorted(CHECKPOINTS))
    builder, filename, expected = CHECKPOINTS[name]
    path = _validate.path(path, "path") if path is not None else checkpoint_dir() / filename
    return _load_verified(builder, path, expected, f"checkpoint {name!r}", "train_checkpoints.py")


def _load_verified(builder, path: Path, expected: str, what: str, script: str) -> nn.Module:
    """``builder()`` with the weights at ``path``, in eval mode, once their SHA-256 is ``expected``.

    The checksum is checked before PyTorch reads a byte; ``what`` names the file in the
    messages and ``script`` is the script that writes it. Also used by
    :mod:`course_utils.evolution` for the Fig. 4 checkpoints.
    """
    if not path.is_file():
        raise FileNotFoundError(
            f"{what} not found at {path}; reinstall course_utils or run `python scripts/{script}`"
        )
    actual = file_checksum(path, "sha256")
    if actual != expected:
        raise ChecksumError(
            f"{what} at {path} has checksum {actual}, expected {expected}: "
            "the file is corrupted or not the shipped one; nothing was loaded"
        )
    model = builder()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


#: torchvision's ImageNet AlexNet weights ("one weird trick" variant, 233 MB).
IMAGENET_ALEXNET_URL = AlexNet_Weights.IMAGENET1K_V1.url
_HASH_NAME = re.compile(r"-([a-f0-9]{8,})\.")  # torch.hub's rule, with at least 8 digits


def load_imagenet_alexnet(
    url: str = IMAGENET_ALEXNET_URL, *, folder: str | Path | None = None
) -> nn.Module | None:
    """torchvision's ImageNet-trained AlexNet, in eval mode, or ``None`` (one printed line) offline.

    The weights come through torchvision's own weights API
    (``torch.hub.load_state_dict_from_url(..., check_hash=True, weights_only=True)``,
    what ``torchvision.models.alexnet(weights=AlexNet_Weights.IMAGENET1K_V1)``
    runs): fetched once to a temporary file, checked, renamed into ``folder``
    (default: torchvision's own cache, ``~/.cache/torch/hub/checkpoints``, shared
    with every other use of torchvision's weights) and read with
    ``weights_only=True`` (tensors only, no code).

    **What is verified:** torchvision publishes only the first 8 hex digits of the
    file's SHA-256, in its name (``alexnet-owt-7be5be79.pth``); torch.hub checks
    them when it downloads, and keeps nothing that fails. Eight hex digits (32
    bits) catch a damaged download, not a deliberately forged file. As in
    torchvision, a cached file is not hashed again at each load (233 MB, about a
    second); a file damaged later fails to load and is named. This function
    never deletes a file.

    Example::

        model = load_imagenet_alexnet()  # None, after one printed line, when offline
        if model is not None:
            print(imagenet_top5(model, course_utils.data.sample_photo("coffee"))[0])

    Args:
        url: where the weights are; its file name must carry a SHA-256 prefix
            (``<name>-<hex digits>.<ext>``), which is checked.
        folder: where to keep them.

    Raises:
        course_utils.download.ChecksumError: the server sent a file whose SHA-256
            does not start with the digits in its name (nothing is kept).
        ValueError: ``url`` has no SHA-256 prefix in its name; the cached file
            cannot be read as AlexNet's weights (delete it, and the next call
            fetches it again); ``folder`` cannot be created or written.
    """
    url = _validate.text(url, "url")
    name = url.rsplit("/", 1)[-1]
    if not url.startswith(("http://", "https://", "file://")) or not _HASH_NAME.search(name):
        raise ValueError(
            f"url must be an http(s):// or file:// URL ending in a file name with a SHA-256 "
            f"prefix (like torchvision's alexnet-owt-7be5be79.pth), got {url!r}"
        )
    folder = (
        _validate.path(folder, "folder")
        if folder is not None
        else Path(torch.hub.get_dir()) / "checkpoints"
    )
    model = alexnet("torchvision")
    said = io.StringIO()  # torch.hub announces every download on stdout: one line of ours instead
    try:
        with contextlib.redirect_stdout(said):
            state = torch.hub.load_state_dict_from_url(
                url,
                model_dir=str(folder),
                map_location="cpu",
                progress=False,
                check_hash=True,
                weights_only=True,
            )
    except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
        reason = getattr(err, "reason", None) or err
        print(f"Offline: skipped the ImageNet AlexNet weights ({reason}).")
        return None
    except OSError as err:  # the folder: a file in its way, read-only, ...
        raise ValueError(f"folder={str(folder)!r} cannot hold the weights: {err}") from None
    except RuntimeError as err:
        if "invalid hash value" in str(err):  # torch.hub kept nothing
            raise ChecksumError(f"{url} did not give the file its name promises: {err}") from None
        raise _unreadable(folder / name, err) from None
    except Exception as err:  # unpickling arbitrary bytes can raise almost anything
        raise _unreadable(folder / name, err) from None
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as err:
        raise _unreadable(folder / name, err) from None
    if said.getvalue():
        print(f"Downloaded the ImageNet AlexNet weights to {folder / name}.")
    return model.eval()


def _unreadable(path: Path, err: Exception) -> ValueError:
    # PyTorch's own message would advise weights_only=False, which is unsafe: not shown.
    return ValueError(
        f"{path} is not a file of AlexNet weights that torch.load(weights_only=True) can "
        f"read ({type(err).__name__}); delete it and the next call fetches it again"
    )


@torch.no_grad()
def imagenet_top5(model: nn.Module, photo) -> list[tuple[str, float]]:
    """The five most probable ImageNet classes of ``photo`` for an ImageNet ``model``.

    Args:
        model: e.g. from :func:`load_imagenet_alexnet`; run in eval mode on its
            own device and dtype, and left as it was found (every submodule's mode).
        photo: ``(H, W, 3)`` uint8 array, e.g. :func:`course_utils.data.sample_photo`.

    The photo is prepared as torchvision's AlexNet weights expect (resize the
    short side to 256, centre crop 224x224, normalise with ImageNet's mean and
    standard deviation; ``AlexNet_Weights.IMAGENET1K_V1.transforms()``).

    Returns:
        Five ``(class name, probability)`` pairs, most probable first.
    """
    _validate.module(model)
    photo = _validate.array(photo, "photo", ndim=3, shape="(H, W, 3) uint8")
    if photo.shape[-1] != 3 or photo.dtype != np.uint8:
        raise ValueError(f"photo must be an (H, W, 3) uint8 array, got {photo.shape} {photo.dtype}")
    x = torch.from_numpy(photo).permute(2, 0, 1)
    x = AlexNet_Weights.IMAGENET1K_V1.transforms()(x).unsqueeze(0)
    with model_left_as_found(model):
        scores = model(x.to(device_of(model), dtype_of(model)))
    probabilities = scores.float().softmax(dim=1)[0].cpu()
    top = probabilities.topk(5)
    names = imagenet_class_names()
    return [(names[i], float(p)) for p, i in zip(top.values, top.indices, strict=True)]


def by_name(arch: str, num_classes: int = 1000) -> nn.Module:
    """An untrained network by name: ``"alexnet_paper"``, ``"zfnet"`` or ``"torchvision:NAME"``.

    ``"torchvision:resnet18"`` is ``torchvision.models.get_model("resnet18", weights=None,
    num_classes=num_classes)``. These are the names the full-scale training script
    (``scripts/train_imagenet.py``) writes into its checkpoints.
    """
    arch = _validate.text(arch, "arch")
    _check_num_classes(num_classes)
    if arch == "alexnet_paper":
        return AlexNetPaper(num_classes)
    if arch == "zfnet":
        return ZFNet(num_classes)
    name = arch.removeprefix("torchvision:")
    if arch.startswith("torchvision:") and name in torchvision.models.list_models(
        module=torchvision.models
    ):
        return torchvision.models.get_model(name, weights=None, num_classes=num_classes)
    raise ValueError(
        f"arch must be 'alexnet_paper', 'zfnet' or 'torchvision:NAME' with a torchvision "
        f"classification model NAME, got {arch!r}"
    )


def load_checkpoint(path: str | Path) -> nn.Module:
    """The trained network of a checkpoint written by ``scripts/train_imagenet.py``, in eval mode.

    The file is read with ``torch.load(..., weights_only=True)`` (tensors and plain
    values only, no code). The network is rebuilt from the checkpoint's ``arch`` and
    ``num_classes`` (:func:`by_name`); its class names (the ImageFolder's folder names,
    e.g. WordNet IDs for ImageNet) are kept as ``model.class_names``.

    Example::

        model = cu.models.load_checkpoint("runs/alexnet/checkpoint.pt")
        pixels = cu.deconvnet.DeconvNet(model).project(images, "features.10", channel=3)
    """
    path = _validate.path(path, "path")
    if not path.is_file():
        raise FileNotFoundError(f"path: no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError) as err:
        raise ValueError(
            f"path: {path} is not a checkpoint that torch.load(weights_only=True) can read "
            f"({type(err).__name__})"
        ) from None
    if not isinstance(state, dict) or not {"arch", "num_classes", "model"} <= state.keys():
        raise ValueError(
            f"path: {path} is not a checkpoint of scripts/train_imagenet.py (it needs the keys "
            "'arch', 'num_classes' and 'model')"
        )
    model = by_name(state["arch"], state["num_classes"])
    model.load_state_dict(state["model"])
    model.class_names = list(state.get("classes", []))
    return model.eval()
