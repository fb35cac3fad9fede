"""Real data that needs no network: Fashion-MNIST, sample photos, ImageNet class names.

* **Fashion-MNIST** (Xiao, Rasul & Vollgraf 2017, MIT licence): 28x28 grey
  images of clothing in 10 classes. ``course_utils`` ships a balanced subset
  (600 train and 100 test images per class, drawn once with a fixed seed by
  ``scripts/make_fashion_mnist_subset.py``), so every chapter runs offline and
  gives the same numbers everywhere. The full 60,000 + 10,000 images load from
  a local copy (Debian's ``dataset-fashion-mnist`` package) or, when online,
  from the dataset's own server, with checksums.
* **Photos** for demonstrations come from scikit-image, which ships them.
* **ImageNet's 1000 class names** come from torchvision's weight metadata,
  which ships with torchvision (no download).
"""

from __future__ import annotations

import gzip
import os
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

from .download import OfflineError, cache_dir, download

__all__ = [
    "FASHION_MNIST_CLASSES",
    "SAMPLE_PHOTOS",
    "ImageSet",
    "imagenet_class_names",
    "load_fashion_mnist",
    "read_idx",
    "sample_photo",
]

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)

#: Where Debian's ``dataset-fashion-mnist`` package puts the four original files.
DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
#: The dataset's own server, and the MD5 checksums that torchvision publishes for its files.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
FASHION_MNIST_FILES = {
    "train": (
        ("train-images-idx3-ubyte.gz", "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "md5:25c81989df183df01b3e8a0aad5dffbe"),
    ),
    "test": (
        ("t10k-images-idx3-ubyte.gz", "md5:bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "md5:bb300cfdad3c16e7a12a480ee83cd310"),
    ),
}
_SPLITS = ("train", "test")
_SOURCES = ("embedded", "full")
_EMBEDDED = "fashion_mnist_subset.npz"


@dataclass(frozen=True, repr=False)
class ImageSet(torch.utils.data.Dataset):
    """A labelled set of grey images, usable directly as a PyTorch ``Dataset``.

    Attributes:
        images: ``(N, H, W)`` uint8 tensor, pixel values 0-255.
        labels: ``(N,)`` int64 tensor of class indices.
        classes: class names, indexed by label.
        split: ``"train"`` or ``"test"``.
        source: where the images came from, in words.

    ``dataset[i]`` returns ``(image, label)`` with ``image`` a ``(1, H, W)``
    float32 tensor in [0, 1], the form a CNN takes.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    split: str
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.images[index].unsqueeze(0).float() / 255.0, int(self.labels[index])

    def __repr__(self) -> str:
        n, h, w = self.images.shape
        return (
            f"ImageSet(split={self.split!r}, images={n:,} x {h}x{w}, "
            f"classes={len(self.classes)}, source={self.source!r})"
        )

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as a ``(N, 1, H, W)`` float32 tensor in [0, 1], and the ``(N,)`` labels."""
        return self.images.unsqueeze(1).float() / 255.0, self.labels


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not, into a uint8 array.

    The format (LeCun et al., the MNIST page): two zero bytes, a type byte
    (0x08 = unsigned byte), a byte giving the number of dimensions, then one
    big-endian int32 per dimension, then the data in C order.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except (OSError, EOFError) as err:
        raise ValueError(f"{path} is not a readable IDX file: {err}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise ValueError(
            f"{path} is truncated or corrupted: header says shape {shape}, "
            f"but the file holds {len(raw) - header} data bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def load_fashion_mnist(
    split: str = "train",
    source: str = "embedded",
    *,
    root: str | os.PathLike | None = None,
    verbose: bool = True,
) -> ImageSet:
    """Load Fashion-MNIST's ``split`` (``"train"`` or ``"test"``).

    Args:
        split: ``"train"`` or ``"test"``.
        source: ``"embedded"`` (default) for the subset shipped with
            ``course_utils``: 6,000 train / 1,000 test images, 10 balanced
            classes, identical on every machine. ``"full"`` for all 60,000 /
            10,000 images, read from ``root`` if given, else from Debian's
            ``dataset-fashion-mnist`` package, else from the download cache,
            else downloaded (checksum verified). Offline with no local copy,
            ``"full"`` prints one line and falls back to the embedded subset.
        root: folder holding the four original ``*-ubyte.gz`` files.
        verbose: print one line saying which source was used.

    Returns:
        An :class:`ImageSet`; its ``source`` attribute says where the images came from.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    if source not in _SOURCES:
        raise ValueError(f"source must be one of {_SOURCES}, got {source!r}")
    if source == "full":
        images, labels, where = _load_full(split, root)
        if images is None:
            print(
                f"Offline: no local copy of the full Fashion-MNIST ({where}); "
                "using the embedded subset instead."
            )
            source = "embedded"
    if source == "embedded":
        images, labels = _load_embedded(split)
        where = "embedded subset shipped with course_utils"
    dataset = ImageSet(
        images=torch.from_numpy(np.array(images, dtype=np.uint8)),
        labels=torch.from_numpy(np.array(labels, dtype=np.int64)),
        classes=FASHION_MNIST_CLASSES,
        split=split,
        source=where,
    )
    if verbose:
        print(f"Fashion-MNIST {split}: {len(dataset):,} images from the {where}.")
    return dataset


def _embedded_path() -> Path:
    return Path(str(resources.files("course_utils") / "_data" / _EMBEDDED))


def _load_embedded(split: str, path: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    path = path or _embedded_path()
    try:
        with open(path, "rb") as f, np.load(f) as archive:
            return archive[f"{split}_images"], archive[f"{split}_labels"]
    except FileNotFoundError:
        raise FileNotFoundError(
            f"the embedded Fashion-MNIST subset is missing ({path}); reinstall course_utils"
        ) from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise ValueError(
            f"the embedded Fashion-MNIST subset at {path} is corrupted: {err}"
        ) from None


def _load_full(split: str, root: str | os.PathLike | None):
    """Return (images, labels, description of the source), or (None, None, reason)."""
    image_file, label_file = FASHION_MNIST_FILES[split]
    if root is not None:
        folders = [Path(root)]
    else:
        folders = [DEBIAN_FASHION_MNIST_DIR, cache_dir() / "fashion-mnist"]
    for folder in folders:
        if (folder / image_file[0]).is_file() and (folder / label_file[0]).is_file():
            return _read_pair(folder, image_file[0], label_file[0]) + (f"local copy in {folder}",)
    if root is not None:
        raise FileNotFoundError(
            f"root={str(root)!r} does not hold {image_file[0]} and {label_file[0]}"
        )
    folder = cache_dir() / "fashion-mnist"
    try:
        for name, checksum in (image_file, label_file):
            download(FASHION_MNIST_URL + name, folder / name, checksum)
    except OfflineError as err:
        return None, None, str(err)
    return _read_pair(folder, image_file[0], label_file[0]) + (f"download cached in {folder}",)


def _read_pair(folder: Path, image_name: str, label_name: str):
    images, labels = read_idx(folder / image_name), read_idx(folder / label_name)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(f"{folder}: images {images.shape} and labels {labels.shape} do not match")
    return images, labels


#: Photos that scikit-image ships (no download), with their credits.
SAMPLE_PHOTOS = {
    "chelsea": "Chelsea the cat (Stefan van der Walt, public domain)",
    "coffee": "A cup of coffee (Rachel Michetti, public domain)",
    "astronaut": "Astronaut Eileen Collins (NASA, public domain)",
    "rocket": "Launch of Space Shuttle Discovery (NASA, public domain)",
}


def sample_photo(name: str = "chelsea") -> np.ndarray:
    """One of scikit-image's bundled colour photos as an ``(H, W, 3)`` uint8 array.

    ``name`` is a key of :data:`SAMPLE_PHOTOS`.
    """
    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"name must be one of {sorted(SAMPLE_PHOTOS)}, got {name!r}")
    import skimage.data

    return getattr(skimage.data, name)()


def imagenet_class_names() -> list[str]:
    """The 1000 ILSVRC-2012 class names, in the index order that ImageNet models use.

    Read from torchvision's weight metadata, which ships with torchvision.
    """
    from torchvision.models import AlexNet_Weights

    return list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])
