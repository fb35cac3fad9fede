"""course_utils.data: the embedded Fashion-MNIST subset, the full set, photos, class names."""

import gzip
import hashlib
import struct

import numpy as np
import pooch
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


def trust(monkeypatch, folder, split="test"):
    """Make the test files in ``folder`` the known ones: their MD5s replace the real ones."""
    files = []
    for name, _, _ in data.FASHION_MNIST_FILES[split]:
        packed = (folder / name).read_bytes()
        files.append(
            (
                name,
                "md5:" + hashlib.md5(packed).hexdigest(),
                "md5:" + hashlib.md5(gzip.decompress(packed)).hexdigest(),
            )
        )
    monkeypatch.setitem(data.FASHION_MNIST_FILES, split, tuple(files))


def write_test_split(folder, images=None, labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    images = np.ones((3, 28, 28), np.uint8) if images is None else images
    labels = np.array([3, 4, 5], np.uint8) if labels is None else labels
    write_idx(folder / "t10k-images-idx3-ubyte.gz", images)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", labels)
    return folder


@pytest.fixture
def offline(monkeypatch, tmp_path, closed_port_url):
    """No Debian copy, no network, an empty cache; yields the cache's Fashion-MNIST folder."""
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-copy")
    monkeypatch.setattr(data, "FASHION_MNIST_URL", closed_port_url)
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "fashion-mnist"


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


def test_full_set_from_a_given_root(tmp_path, monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, size=(7, 28, 28), dtype=np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 5, 9], dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels)
    trust(monkeypatch, tmp_path)
    dataset = load_fashion_mnist("test", "full", root=tmp_path, verbose=False)
    assert torch.equal(dataset.images, torch.from_numpy(images))
    assert dataset.labels.tolist() == labels.tolist()
    assert str(tmp_path) in dataset.source


def test_root_without_the_files_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        load_fashion_mnist("test", "full", root=tmp_path, verbose=False)


def test_mismatched_images_and_labels(tmp_path, monkeypatch):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    trust(monkeypatch, tmp_path)
    with pytest.raises(ValueError, match="do not match"):
        load_fashion_mnist("test", "full", root=tmp_path, verbose=False)


def test_full_set_offline_falls_back_with_one_line(offline, tmp_path, capsys):
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


# --- Damaged or different local copies: every read is checked against the known checksums ---

DAMAGES = {
    # A valid IDX file that is not Fashion-MNIST's: 2 images, and a label no class has.
    "two images, label 200": lambda folder: write_test_split(
        folder, np.zeros((2, 28, 28), np.uint8), np.array([0, 200], np.uint8)
    ),
    "5x7 images": lambda folder: write_test_split(
        folder, np.zeros((3, 5, 7), np.uint8), np.array([0, 1, 2], np.uint8)
    ),
    "truncated": lambda folder: (folder / "t10k-images-idx3-ubyte.gz").write_bytes(
        (write_test_split(folder) / "t10k-images-idx3-ubyte.gz").read_bytes()[:-40]
    ),
    "garbage": lambda folder: (write_test_split(folder) / "t10k-labels-idx1-ubyte.gz").write_bytes(
        b"\x1f\x8b garbage"
    ),
    "empty": lambda folder: (write_test_split(folder) / "t10k-images-idx3-ubyte.gz").write_bytes(
        b""
    ),
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_debian_copy_is_named_and_skipped(damage, offline, tmp_path, monkeypatch, capsys):
    debian = tmp_path / "debian"
    DAMAGES[damage](debian)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", debian)
    dataset = load_fashion_mnist("test", "full", verbose=False)
    assert "embedded" in dataset.source and len(dataset) == 1000  # the offline fallback
    skipped, fallback = capsys.readouterr().out.strip().splitlines()
    assert str(debian / "t10k-") in skipped and "reinstall" in skipped
    assert fallback.startswith("Offline: no local copy")
    assert len(list(debian.iterdir())) == 2  # not ours to delete


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_cached_copy_is_named_and_kept_offline(damage, offline, capsys):
    DAMAGES[damage](offline)
    before = {p.name: p.read_bytes() for p in offline.iterdir()}
    dataset = load_fashion_mnist("test", "full", verbose=False)
    assert "embedded" in dataset.source
    skipped, fallback = capsys.readouterr().out.strip().splitlines()
    assert skipped.startswith("Skipped a damaged Fashion-MNIST file") and str(offline) in skipped
    assert fallback.startswith("Offline: no local copy")
    assert {p.name: p.read_bytes() for p in offline.iterdir()} == before  # nothing deleted


@pytest.mark.parametrize("cache", ["a file", "a file above it"])
def test_a_cache_that_cannot_be_written_falls_back_with_one_line(
    cache, offline, tmp_path, monkeypatch, capsys
):
    """Issue 24: $COURSE_UTILS_CACHE a file gave a raw NotADirectoryError."""
    blocker = tmp_path / "blocker"
    blocker.write_text("in the way")
    where = blocker if cache == "a file" else blocker / "cache"
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(where))
    dataset = load_fashion_mnist("test", "full", verbose=False)
    assert "embedded" in dataset.source and len(dataset) == 1000
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and str(blocker) in lines[0] and "embedded subset instead" in lines[0]
    assert blocker.read_text() == "in the way"


def test_a_read_only_cache_falls_back_with_one_line(offline, monkeypatch, capsys):
    """Issue 24: a read-only cache gave a raw PermissionError (simulated: this may run as root)."""
    offline.mkdir(parents=True)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(offline))

    monkeypatch.setattr(pooch, "retrieve", read_only)
    dataset = load_fashion_mnist("test", "full", verbose=False)
    assert "embedded" in dataset.source
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and "Permission denied" in lines[0] and "path=" in lines[0]


def test_damaged_cached_copy_is_fetched_again(monkeypatch, tmp_path, http_server, capsys):
    served, url = http_server
    trust(monkeypatch, write_test_split(served))  # the server holds the "known" files
    cache = tmp_path / "cache"
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "no-debian-copy")
    monkeypatch.setattr(data, "FASHION_MNIST_URL", url)
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(cache))
    DAMAGES["truncated"](cache / "fashion-mnist")
    dataset = load_fashion_mnist("test", "full", verbose=False)
    assert dataset.labels.tolist() == [3, 4, 5] and "download" in dataset.source
    assert capsys.readouterr().out.startswith("Skipped a damaged Fashion-MNIST file in the cache")


@pytest.mark.parametrize("damage", DAMAGES)
def test_damaged_files_in_root_raise_with_advice(damage, tmp_path):
    DAMAGES[damage](tmp_path)
    with pytest.raises(ValueError, match=f"^{tmp_path}/t10k-.*replace it with the original"):
        load_fashion_mnist("test", "full", root=tmp_path, verbose=False)


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


@pytest.mark.parametrize(
    ("change", "error", "argument"),
    [
        ({"labels": torch.zeros(2, dtype=torch.int64)}, ValueError, "labels"),  # 3 images
        ({"labels": torch.tensor([0, 1, 10])}, ValueError, "labels"),  # only 10 classes
        ({"labels": torch.tensor([0, -1, 2])}, ValueError, "labels"),
        ({"images": torch.rand(3, 28, 28)}, TypeError, "images"),  # floats: /255 twice
        ({"images": torch.zeros(3, 1, 28, 28, dtype=torch.uint8)}, ValueError, "images"),
        ({"classes": ["a"] * 10}, TypeError, "classes"),
        ({"split": None}, TypeError, "split"),
    ],
)
def test_image_set_refuses_inconsistent_parts(change, error, argument):
    parts = {
        "images": torch.zeros(3, 28, 28, dtype=torch.uint8),
        "labels": torch.tensor([0, 1, 9]),
        "classes": FASHION_MNIST_CLASSES,
        "split": "test",
        "source": "made by hand",
    }
    with pytest.raises(error, match=f"^{argument} must"):
        data.ImageSet(**{**parts, **change})


def test_image_set_items_are_single_images():
    dataset = load_fashion_mnist("test", verbose=False)
    image, label = dataset[np.int64(-1)]
    assert torch.equal(image[0], dataset.images[-1].float() / 255) and label == dataset.labels[-1]
    with pytest.raises(TypeError, match="^index must be an int .*tensors"):
        dataset[0:3]
    with pytest.raises(ValueError, match="^index must be"):
        dataset[1000]


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
