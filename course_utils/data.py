"""Real data that needs no network: Fashion-MNIST, sample photos, ImageNet class names.

* **Fashion-MNIST** (Xiao, Rasul & Vollgraf 2017, MIT licence): 28x28 grey
  images of clothing in 10 classes. ``course_utils`` ships a balanced subset
  (600 train and 100 test images per class, drawn once with a fixed seed by
  ``scripts/make_fashion_mnist_subset.py``), so every chapter runs offline and
  gives the same numbers everywhere. The full 60,000 + 10,000 images load from
  a local copy (Debian's ``dataset-fashion-mnist`` package) or, when online,
  from the dataset's own server; every file is checked against its known
  checksum each time it is read.
* **Photos** for demonstrations come from scikit-image, which ships them.
* **ImageNet's 1000 class names** come from torchvision's weight metadata,
  which ships with torchvision (no download).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import skimage.data
import torch
from torchvision.models import AlexNet_Weights

from . import _validate
from .download import ChecksumError, OfflineError, cache_dir, download

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
#: The dataset's own server.
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
#: For each split, its image and label files: ``(name, MD5 of the .gz file as the
#: server sends it, MD5 of the IDX bytes inside)``. The first is what torchvision
#: publishes; it checks a download. The second is checked every time a file is
#: read: Debian's package holds the same bytes recompressed (its .gz files are 24
#: bytes shorter, without the original name in the gzip header), so only the
#: contents can be compared. Measured on Debian's ``dataset-fashion-mnist``
#: 0.0~git20200523.55506a9-1, and equal to the MD5s that other loaders publish
#: for the decompressed files.
FASHION_MNIST_FILES = {
    "train": (
        (
            "train-images-idx3-ubyte.gz",
            "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "md5:f4a8712d7a061bf5bd6d2ca38dc4d50a",
        ),
        (
            "train-labels-idx1-ubyte.gz",
            "md5:25c81989df183df01b3e8a0aad5dffbe",
            "md5:9018921c3c673c538a1fc5bad174d6f9",
        ),
    ),
    "test": (
        (
            "t10k-images-idx3-ubyte.gz",
            "md5:bef4ecab320f06d8554ea6380940ec79",
            "md5:8181f5470baa50b63fa0f6fddb340f0a",
        ),
        (
            "t10k-labels-idx1-ubyte.gz",
            "md5:bb300cfdad3c16e7a12a480ee83cd310",
            "md5:15d484375f8d13e6eb1aabb0c3f46965",
        ),
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
    float32 tensor in [0, 1], the form a CNN takes. For several images at once,
    use :meth:`ImageSet.tensors` (e.g. ``dataset.tensors()[0][:16]``).

    Raises:
        TypeError: at construction, when the images are not uint8 or the labels not int64.
        ValueError: at construction, when there is not one label per image, or a
            label is not a class index.
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    split: str
    source: str

    def __post_init__(self):
        shape = "(N, H, W) uint8"
        _validate.tensor(self.images, "images", ndim=3, shape=shape, nonempty=False)
        if self.images.dtype != torch.uint8:
            raise TypeError(
                f"images must be a {shape} tensor of pixel values 0-255, got dtype "
                f"{self.images.dtype} (for floats in [0, 1]: (images * 255).round().byte())"
            )
        _validate.tensor(self.labels, "labels", ndim=1, shape="(N,)", nonempty=False)
        if self.labels.dtype != torch.int64:
            raise TypeError(f"labels must be an int64 tensor, got dtype {self.labels.dtype}")
        if len(self.labels) != len(self.images):
            raise ValueError(
                f"labels must have one entry per image ({len(self.images)}), got {len(self.labels)}"
            )
        if not isinstance(self.classes, tuple) or not self.classes:
            raise TypeError(f"classes must be a non-empty tuple of names, got {self.classes!r}")
        for name in self.classes:
            _validate.text(name, "classes")
        if len(self.labels) and not 0 <= self.labels.min() <= self.labels.max() < len(self.classes):
            raise ValueError(
                f"labels must be class indices in [0, {len(self.classes) - 1}], got values "
                f"from {int(self.labels.min())} to {int(self.labels.max())}"
            )
        _validate.text(self.split, "split")
        _validate.text(self.source, "source")

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if isinstance(index, slice):
            raise TypeError(
                "index must be an int (one image); for several images use "
                "dataset.tensors() and slice its tensors"
            )
        index = _validate.integer(index, "index", min=-len(self), max=len(self) - 1)
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

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is truncated, not gzip when named ``.gz``, or not IDX.
    """
    path = _validate.path(path, "path")
    return _parse_idx(_read_bytes(path), path)


def _read_bytes(path: Path) -> bytes:
    """The bytes of ``path``, decompressed if its name ends in ``.gz``."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise FileNotFoundError(f"IDX file not found: {path}") from None
    except (OSError, EOFError) as err:
        raise ValueError(f"{path} is not a readable IDX file: {err}") from None


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated or corrupted: its header is cut short")
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
            else downloaded. Every file is checked against the checksum of
            its contents (``FASHION_MNIST_FILES``) each time it is read: a
            damaged or different file is named and skipped (one printed line;
            one in the download cache is fetched again, and replaced only by
            a verified copy). Offline, or with a download cache that cannot be
            written (``$COURSE_UTILS_CACHE`` a file or read-only), and no good
            local copy, ``"full"`` prints one line and falls back to the
            embedded subset.
        root: folder holding the original ``*-ubyte.gz`` files of ``split``. Its
            files are checked too; as you chose them, a bad one raises an error
            instead of being skipped.
        verbose: print one line saying which source was used.

    Returns:
        An :class:`ImageSet`; its ``source`` attribute says where the images came from.

    Raises:
        FileNotFoundError: ``root`` lacks a file.
        course_utils.download.ChecksumError: a file in ``root`` is not the original.
        ValueError: a file in ``root`` is unreadable (e.g. truncated).
    """
    _validate.one_of(split, "split", _SPLITS)
    _validate.one_of(source, "source", _SOURCES)
    root = _validate.path(root, "root") if root is not None else None
    verbose = _validate.flag(verbose, "verbose")
    if source == "full":
        images, labels, where = _load_full(split, root)
        if images is None:
            print(f"{where}; using the embedded subset instead.")
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


def _load_full(split: str, root: Path | None):
    """Return (images, labels, description of the source), or (None, None, the line to print)."""
    files = FASHION_MNIST_FILES[split]
    names = [name for name, _, _ in files]
    if root is not None:
        if not all((root / name).is_file() for name in names):
            raise FileNotFoundError(f"root={str(root)!r} does not hold {' and '.join(names)}")
        try:
            return _read_pair(root, files) + (f"local copy in {root}",)
        except ValueError as err:  # unreadable, or a ChecksumError: say what to do
            raise type(err)(
                f"{err}; replace it with the original from {FASHION_MNIST_URL}, or leave out root"
            ) from None
    cache = cache_dir() / "fashion-mnist"
    for folder in (DEBIAN_FASHION_MNIST_DIR, cache):
        if not all((folder / name).is_file() for name in names):
            continue
        try:
            return _read_pair(folder, files) + (f"local copy in {folder}",)
        except ValueError as err:  # unreadable, or a ChecksumError: skipped, never deleted
            if folder == cache:
                print(
                    f"Skipped a damaged Fashion-MNIST file in the cache: {err}; fetching it again."
                )
            else:
                print(
                    f"Skipped a damaged Fashion-MNIST file: {err}. Reinstall the package "
                    "(sudo apt-get install --reinstall dataset-fashion-mnist)."
                )
    try:
        for name, served, _ in files:  # a damaged cached file is replaced only by a verified one
            download(FASHION_MNIST_URL + name, cache / name, served, progress=False)
    except OfflineError as err:
        return None, None, f"Offline: no local copy of the full Fashion-MNIST ({err})"
    except OSError as err:  # the cache is a file, read-only, full, ...
        return None, None, f"The full Fashion-MNIST cannot be downloaded: {err}"
    return _read_pair(cache, files) + (f"download cached in {cache}",)


def _read_pair(folder: Path, files) -> tuple[np.ndarray, np.ndarray]:
    """The images and labels of ``files`` in ``folder``, each checked against its contents' MD5."""
    arrays = []
    for name, _, contents in files:
        raw = _read_bytes(folder / name)
        digest = "md5:" + hashlib.md5(raw).hexdigest()
        if digest != contents:
            raise ChecksumError(
                f"{folder / name} is not Fashion-MNIST's original file (its contents have "
                f"{digest}, expected {contents})"
            )
        arrays.append(_parse_idx(raw, folder / name))
    images, labels = arrays
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
    _validate.one_of(name, "name", sorted(SAMPLE_PHOTOS))
    return getattr(skimage.data, name)()


def imagenet_class_names() -> list[str]:
    """The 1000 ILSVRC-2012 class names, in the index order that ImageNet models use.

    Read from torchvision's weight metadata, which ships with torchvision.
    """
    return list(AlexNet_Weights.IMAGENET1K_V1.meta["categories"])
