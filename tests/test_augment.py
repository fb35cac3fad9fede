"""course_utils.augment: AlexNet's crops, flips and PCA colour augmentation (Sec. 4.1)."""

import math

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from sklearn.decomposition import PCA

from course_utils import augment, data


@pytest.fixture(scope="module")
def photo() -> torch.Tensor:
    """Chelsea the cat as a (3, H, W) float tensor in [0, 1]."""
    return TF.to_tensor(data.sample_photo("chelsea"))


def seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- crops and flips ---------------------------------------------------------


def test_paper_crop_size_keeps_the_papers_ratio():
    assert augment.paper_crop_size(256) == 224  # the paper's numbers, Sec. 4.1
    assert augment.paper_crop_size(28) == 24  # 28 * 224 / 256 = 24.5, rounded down
    assert augment.paper_crop_size(32) == 28  # 32 * 224 / 256 = 28 exactly


def find_patch(image: torch.Tensor, patch: torch.Tensor) -> list[tuple[int, int, bool]]:
    """Every (top, left, flipped) at which ``patch`` sits in ``image``, by brute force."""
    size = patch.shape[-1]
    found = []
    for top in range(image.shape[-2] - size + 1):
        for left in range(image.shape[-1] - size + 1):
            window = image[:, top : top + size, left : left + size]
            for flipped, candidate in ((False, window), (True, window.flip(-1))):
                if torch.equal(candidate, patch):
                    found.append((top, left, flipped))
    return found


def test_random_crop_flip_returns_windows_of_the_input_or_their_mirror_images():
    images = torch.rand(40, 2, 9, 11, generator=seeded(1))  # random pixels: windows are unique
    patches = augment.random_crop_flip(images, 6, generator=seeded(2))
    assert patches.shape == (40, 2, 6, 6)
    places = [find_patch(image, patch) for image, patch in zip(images, patches, strict=True)]
    assert all(len(p) == 1 for p in places)
    flips = [p[0][2] for p in places]
    assert 0 < sum(flips) < 40  # both flipped and unflipped patches occur


def test_random_crop_flip_reaches_every_offset_uniformly():
    # A 5 x 5 image whose pixel values are their own positions; 3 x 3 crops have 3 x 3 offsets.
    image = torch.arange(25.0).reshape(1, 5, 5).expand(3000, 1, 5, 5)
    patches = augment.random_crop_flip(image, 3, flip=False, generator=seeded(3))
    corner = patches[:, 0, 0, 0].long()  # top-left pixel = 5 * top + left
    counts = torch.bincount(corner, minlength=25).reshape(5, 5)[:3, :3]
    assert (counts > 0).all()
    assert counts.sum() == 3000
    assert (counts - 3000 / 9).abs().max() < 100  # about 333 each; 5 standard deviations ~ 90


def test_random_crop_flip_is_reproducible_with_a_seed_and_keeps_single_images():
    images = torch.rand(4, 3, 8, 8, generator=seeded(4))
    first = augment.random_crop_flip(images, 5, generator=seeded(5))
    again = augment.random_crop_flip(images, 5, generator=seeded(5))
    assert torch.equal(first, again)
    assert augment.random_crop_flip(images[0], 5, generator=seeded(5)).shape == (3, 5, 5)
    full = augment.random_crop_flip(images, 8, flip=False)
    assert torch.equal(full, images)  # a crop as large as the image is the image


def test_ten_crop_matches_torchvision(photo):
    ours = augment.ten_crop(photo, 224)
    reference = TF.ten_crop(photo, [224, 224])
    assert ours.shape == (10, 3, 224, 224)
    for mine, theirs in zip(ours, reference, strict=True):
        assert torch.equal(mine, theirs)
    batch = augment.ten_crop(torch.stack([photo, photo.flip(-2)]), 100)
    assert batch.shape == (10, 2, 3, 100, 100)


def test_ten_crop_by_hand_on_a_tiny_image():
    image = torch.arange(9.0).reshape(1, 3, 3)  # [[0 1 2] [3 4 5] [6 7 8]]
    crops = augment.ten_crop(image, 2)
    corners = [[[0, 1], [3, 4]], [[1, 2], [4, 5]], [[3, 4], [6, 7]], [[4, 5], [7, 8]]]
    for crop, expected in zip(crops[:4], corners, strict=True):
        assert crop[0].tolist() == expected
    assert crops[5][0].tolist() == [[2, 1], [5, 4]]  # top-left of the mirror image


# --- PCA colour augmentation -------------------------------------------------


def test_rgb_pca_matches_numpy_eigh_on_a_real_photo(photo):
    eigenvalues, eigenvectors = augment.rgb_pca(photo)
    pixels = photo.permute(1, 2, 0).reshape(-1, 3).double().numpy()
    ref_values, ref_vectors = np.linalg.eigh(np.cov(pixels, rowvar=False))
    np.testing.assert_allclose(eigenvalues.numpy(), ref_values[::-1], rtol=1e-9)
    for i in range(3):  # eigenvectors agree up to sign
        cosine = abs(float(eigenvectors[:, i] @ torch.from_numpy(ref_vectors[:, 2 - i])))
        assert cosine == pytest.approx(1.0, abs=1e-9)


def test_rgb_pca_matches_scikit_learn_pca_on_a_batch(photo):
    images = torch.stack([photo[:, :150, :200], photo[:, 150:, 200:400]])
    eigenvalues, eigenvectors = augment.rgb_pca(images)
    pixels = images.permute(0, 2, 3, 1).reshape(-1, 3).double().numpy()
    pca = PCA(n_components=3).fit(pixels)  # SVD of the centred data, not an eigensolver
    np.testing.assert_allclose(eigenvalues.numpy(), pca.explained_variance_, rtol=1e-8)
    cosines = np.abs(np.sum(eigenvectors.numpy().T * pca.components_, axis=1))
    np.testing.assert_allclose(cosines, 1.0, atol=1e-8)
    # The eigenvectors are orthonormal.
    np.testing.assert_allclose(eigenvectors.T @ eigenvectors, np.eye(3), atol=1e-12)


def test_rgb_pca_by_hand_on_two_pixels():
    # Pixels (0,0,0) and (1,1,1): mean 0.5; centred ±0.5 in every channel;
    # covariance = 2 * 0.25 * ones(3, 3) / (2 - 1) = 0.5 * ones, whose eigenvalues are
    # 1.5 (eigenvector (1,1,1)/sqrt(3): grey) and 0, 0.
    image = torch.tensor([[[0.0, 1.0]], [[0.0, 1.0]], [[0.0, 1.0]]])  # (3, 1, 2)
    eigenvalues, eigenvectors = augment.rgb_pca(image)
    assert eigenvalues.tolist() == pytest.approx([1.5, 0.0, 0.0], abs=1e-12)
    assert eigenvectors[:, 0].abs().tolist() == pytest.approx([1 / math.sqrt(3)] * 3)


def test_pca_color_shift_by_the_papers_formula_by_hand():
    # p1 = green, p2 = red, p3 = blue (columns); l = (4, 2, 1); a = (0.1, -0.2, 0.5).
    # [p1 p2 p3][a1 l1, a2 l2, a3 l3]^T = 0.4 * p1 - 0.4 * p2 + 0.5 * p3 = (-0.4, 0.4, 0.5).
    eigenvectors = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    eigenvalues = torch.tensor([4.0, 2.0, 1.0])
    alphas = torch.tensor([0.1, -0.2, 0.5])
    shift = augment.pca_color_shift(eigenvalues, eigenvectors, alphas)
    assert shift.tolist() == pytest.approx([-0.4, 0.4, 0.5])
    batch = augment.pca_color_shift(eigenvalues, eigenvectors, torch.stack([alphas, -alphas]))
    assert batch[0].tolist() == pytest.approx([-0.4, 0.4, 0.5])
    assert batch[1].tolist() == pytest.approx([0.4, -0.4, -0.5])


def test_pca_color_augment_adds_the_same_colour_to_every_pixel():
    # The two-pixel example above: l1 = 1.5, p1 = ±(1,1,1)/sqrt(3), l2 = l3 = 0.
    # With a1 = 0.2 the shift is ±0.2 * 1.5 / sqrt(3) = ±0.1732 in every channel.
    image = torch.tensor([[[0.0, 1.0]], [[0.0, 1.0]], [[0.0, 1.0]]], dtype=torch.float64)
    eigenvalues, eigenvectors = augment.rgb_pca(image)
    out = augment.pca_color_augment(
        image, eigenvalues, eigenvectors, alphas=torch.tensor([0.2, 0.7, -0.3])
    )
    difference = out - image
    assert difference.abs().flatten().tolist() == pytest.approx([0.3 / math.sqrt(3)] * 6)
    assert torch.allclose(difference, difference.flatten()[0].expand_as(difference))


def test_pca_color_augment_on_a_batch_uses_one_draw_per_image(photo):
    eigenvalues, eigenvectors = augment.rgb_pca(photo)
    images = torch.stack([photo[:, :64, :64], photo[:, 64:128, :64], photo[:, :64, 64:128]])
    out = augment.pca_color_augment(images, eigenvalues, eigenvectors, generator=seeded(6))
    shifts = (out - images).flatten(2)  # (3 images, 3 channels, pixels)
    assert torch.allclose(shifts, shifts[:, :, :1].expand_as(shifts), atol=1e-6)
    assert not torch.allclose(shifts[0, :, 0], shifts[1, :, 0])  # different images, new draws
    assert out.dtype == images.dtype


def test_alphas_are_seeded_gaussians_with_the_papers_standard_deviation():
    # With identity eigenvectors and unit eigenvalues the shift is alpha itself.
    eye, ones = torch.eye(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    images = torch.zeros(20000, 3, 1, 1, dtype=torch.float64)
    alphas = augment.pca_color_augment(images, ones, eye, generator=seeded(7)).reshape(-1, 3)
    again = augment.pca_color_augment(images, ones, eye, generator=seeded(7)).reshape(-1, 3)
    assert torch.equal(alphas, again)
    # Mean 0 and standard deviation 0.1 (Sec. 4.1); standard errors 0.0007 and 0.0005.
    assert alphas.mean(dim=0).abs().max() < 0.004
    assert (alphas.std(dim=0) - 0.1).abs().max() < 0.003
    # Channels drawn independently.
    assert abs(float(torch.corrcoef(alphas.T)[0, 1])) < 0.05


def test_std_zero_leaves_images_unchanged(photo):
    eigenvalues, eigenvectors = augment.rgb_pca(photo)
    out = augment.pca_color_augment(photo, eigenvalues, eigenvectors, std=0.0)
    assert torch.equal(out, photo)


# --- input validation --------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: augment.paper_crop_size(1), ValueError, "^image_size must"),
        (lambda: augment.paper_crop_size(28.0), TypeError, "^image_size must"),
        (lambda: augment.random_crop_flip(torch.rand(3, 8, 8), 9), ValueError, "^size must"),
        (lambda: augment.random_crop_flip(torch.rand(3, 8, 8), 0), ValueError, "^size must"),
        (lambda: augment.random_crop_flip(np.zeros((3, 8, 8)), 4), TypeError, "^images must"),
        (lambda: augment.random_crop_flip(torch.zeros(8, 8), 4), ValueError, "^images must"),
        (
            lambda: augment.random_crop_flip(torch.zeros(3, 8, 8, dtype=torch.uint8), 4),
            TypeError,
            "^images must be a float",
        ),
        (lambda: augment.ten_crop(torch.rand(3, 8, 8), 9), ValueError, "^size must"),
        (lambda: augment.rgb_pca(torch.rand(1, 8, 8)), ValueError, "^images must have 3"),
        (lambda: augment.rgb_pca(torch.rand(3, 1, 1)), ValueError, "^images must hold"),
        (
            lambda: augment.pca_color_shift(torch.ones(2), torch.eye(3), torch.ones(3)),
            ValueError,
            "^eigenvalues must",
        ),
        (
            lambda: augment.pca_color_shift(torch.ones(3), torch.eye(2), torch.ones(3)),
            ValueError,
            "^eigenvectors must",
        ),
        (
            lambda: augment.pca_color_shift(torch.ones(3), torch.eye(3), torch.ones(4)),
            ValueError,
            "^alphas must",
        ),
        (
            lambda: augment.pca_color_augment(
                torch.rand(2, 3, 4, 4), torch.ones(3), torch.eye(3), std=-0.1
            ),
            ValueError,
            "^std must",
        ),
        (
            lambda: augment.pca_color_augment(
                torch.rand(2, 3, 4, 4), torch.ones(3), torch.eye(3), alphas=torch.ones(3)
            ),
            ValueError,
            "^alphas must",
        ),
        (
            lambda: augment.pca_color_augment(
                torch.rand(3, 4, 4), torch.ones(3), torch.eye(3), alphas=torch.tensor(1.0)
            ),
            ValueError,
            "^alphas must",
        ),
    ],
)
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_pca_color_augment_follows_the_images_device():
    """Before: eigenvalues and alphas stayed on the CPU, and images elsewhere gave a raw error.

    The meta device stands in for a GPU here (shapes only); the CUDA test below checks values.
    """
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    eigenvalues, eigenvectors = augment.rgb_pca(images)
    out = augment.pca_color_augment(images.to("meta"), eigenvalues, eigenvectors)
    assert out.device.type == "meta" and out.shape == images.shape and out.dtype == images.dtype
    with pytest.raises(ValueError, match="^images is on the meta device"):
        augment.rgb_pca(images.to("meta"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_pca_color_augment_on_cuda_equals_the_cpu():
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    eigenvalues, eigenvectors = augment.rgb_pca(images)
    on_cpu = augment.pca_color_augment(
        images, eigenvalues, eigenvectors, generator=torch.Generator().manual_seed(1)
    )
    on_gpu = augment.pca_color_augment(
        images.cuda(), eigenvalues.cuda(), eigenvectors, generator=torch.Generator().manual_seed(1)
    )
    assert on_gpu.is_cuda
    torch.testing.assert_close(on_gpu.cpu(), on_cpu)
    crops = augment.random_crop_flip(images.cuda(), 4, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(
        crops.cpu(), augment.random_crop_flip(images, 4, generator=torch.Generator().manual_seed(2))
    )
