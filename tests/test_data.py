"""course_utils.data: the embedded Fashion-MNIST subset, the full set, photos, class names."""

import gzip
import struct

import numpy as np
import pytest
import torch

from course_utils import data
from course_utils.data import (
    DEBIAN_FASHION_MNIST_DIR,
    FASHION_MNIST_CLASSES,
    imagenet_class_names,
    load_fashion_mnist,
    read_idx,
    sample_photo,
)
from course_utils.download import ChecksumError

HAS_DEBIAN_COPY = (DEBIAN_FASHION_MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file()


def write_idx(path, array: np.ndarray, *, gz=True):
    """Write an IDX file by the format's definition (the MNIST page), independently of read_idx."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", n) for n in array.shape)
    raw = header + array.astype(np.uint8).tobytes()
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(raw)


@pytest.mark.parametrize(("split", "per_class"), [("train", 600), ("test", 100)])
def test_embedded_subset_is_balanced(split, per_class):
    dataset = load_fashion_mnist(split, verbose=False)
    assert dataset.images.shape == (10 * per_class, 28, 28)
    assert dataset.images.dtype == torch.uint8
    assert torch.equal(dataset.labels.bincount(), torch.full((10,), per_class))
    assert dataset.classes == FASHION_MNIST_CLASSES
    assert "embedded" in dataset.source


def test_item_is_what_a_cnn_takes():
    dataset = load_fashion_mnist("test", verbose=False)
    image, label = dataset[3]
    assert image.shape == (1, 28, 28) and image.dtype == torch.float32
    assert 0.0 <= image.min() and image.max() <= 1.0
    assert torch.equal(image[0], dataset.images[3].float() / 255) and label == dataset.labels[3]
    images, labels = dataset.tensors()
    assert images.shape == (1000, 1, 28, 28) and torch.equal(images[3], image)


def test_reports_its_source(capsys):
    load_fashion_mnist("test")
    assert capsys.readouterr().out.strip() == (
        "Fashion-MNIST test: 1,000 images from the embedded subset shipped with course_utils."
    )


@pytest.mark.skipif(not HAS_DEBIAN_COPY, reason="Debian's dataset-fashion-mnist is not installed")
@pytest.mark.parametrize("split", ["train", "test"])
def test_embedded_subset_is_a_true_subset_of_the_full_set(split):
    full = load_fashion_mnist(split, "full", verbose=False)
    assert len(full) == {"train": 60_000, "test": 10_000}[split]
    with np.load(data._embedded_path()) as archive:
        indices = archive[f"{split}_indices"]
    subset = load_fashion_mnist(split, verbose=False)
    assert torch.equal(subset.images, full.images[indices])
    assert torch.equal(subset.labels, full.labels[indices])


def test_read_idx_on_a_hand_written_file(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx3-ubyte.gz", array)
    write_idx(tmp_path / "a.idx3-ubyte", array, gz=False)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx3-ubyte.gz"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx3-ubyte"), array)


def test_read_idx_rejects_truncated_and_foreign_files(tmp_path):
    write_idx(tmp_path / "ok.gz", np.zeros((4, 5), np.uint8))
    raw = gzip.decompress((tmp_path / "ok.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-3]))
    with pytest.raises(ValueError, match="truncated or corrupted"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "float.gz").write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + raw[4:]))
    with pytest.raises(ValueError, match="magic number"):
        read_idx(tmp_path / "float.gz")
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match="not a readable IDX file"):
        read_idx(tmp_path / "broken.gz")


def test_full_set_from_a_given_root(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5, 9], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    dataset = load_fashion_mnist("test", "full", root=tmp_path, verbose=False)
    assert torch.equal(dataset.images, torch.from_numpy(images))
    assert dataset.labels.tolist() == labels.tolist()
    assert str(tmp_path) in dataset.source


def test_root_without_the_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist("test", "full", root=tmp_path, verbose=False)


def test_mismatched_images_and_labels(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        load_fashion_mnist("test", "full", root=tmp_path, verbose=False)


def test_full_set_offline_falls_back_with_one_line(monkeypatch, tmp_path, closed_port_url, capsys):
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-copy")
    monkeypatch.setattr(data, "FASHION_MNIST_URL", closed_port_url)
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    dataset = load_fashion_mnist("test", "full", verbose=False)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "Offline: no local copy of the full Fashion-MNIST"
    )
    assert "embedded" in dataset.source and len(dataset) == 1000
    leftover = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert leftover == []


def test_full_set_downloads_with_checksums(monkeypatch, tmp_path, http_server):
    served, url = http_server
    write_idx(served / "t10k-images-idx3-ubyte.gz", np.ones((2, 28, 28), np.uint8))
    write_idx(served / "t10k-labels-idx1-ubyte.gz", np.array([3, 4], np.uint8))
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-copy")
    monkeypatch.setattr(data, "FASHION_MNIST_URL", url)
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    # The served files are not the real ones, so the published checksums must reject them.
    with pytest.raises(ChecksumError, match="checksum mismatch"):
        load_fashion_mnist("test", "full", verbose=False)
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_corrupted_embedded_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "subset.npz"
    bad.write_bytes(data._embedded_path().read_bytes()[:5000])
    with pytest.raises(ValueError, match="corrupted"):
        data._load_embedded("train", bad)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"split": "validation"}, "split"), ({"source": "internet"}, "source")],
)
def test_bad_arguments_name_the_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"^{argument} must be one of"):
        load_fashion_mnist(**kwargs)


@pytest.mark.parametrize(("name", "shape"), [("chelsea", (300, 451, 3)), ("coffee", (400, 600, 3))])
def test_sample_photos_are_real_colour_images(name, shape):
    photo = sample_photo(name)
    assert photo.shape == shape and photo.dtype == np.uint8 and photo.std() > 20


def test_unknown_photo():
    with pytest.raises(ValueError, match="^name must be one of"):
        sample_photo("lena")


def test_imagenet_class_names():
    names = imagenet_class_names()
    # Indices every ImageNet model agrees on (ILSVRC-2012 synset order, sorted by WordNet id).
    assert len(names) == 1000 and len(set(names)) >= 998
    assert names[0] == "tench" and names[1] == "goldfish" and names[999] == "toilet tissue"
