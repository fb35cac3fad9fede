"""Tests of course_utils.features against scikit-image, scikit-learn, autograd and hand-worked cases."""

import tracemalloc

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.collections import LineCollection
from skimage.feature import hog as skimage_hog
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from course_utils import features
from course_utils.features import (
    bag_of_words,
    cell_histograms,
    dense_descriptors,
    fisher_vector,
    gradients,
    hog,
    patches,
    plot_hog,
)


def _images(n=6, size=28, seed=0):
    # Smooth blobs plus noise: gradients of every orientation and strength.
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:size, 0:size]
    images = []
    for _ in range(n):
        r, c, s = rng.uniform(5, size - 5), rng.uniform(5, size - 5), rng.uniform(3, 8)
        blob = np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / (2 * s**2))
        images.append(np.clip(blob + 0.1 * rng.standard_normal((size, size)), 0, 1))
    return np.stack(images)


@pytest.mark.parametrize(
    ("cell", "block", "orientations"), [(4, 2, 9), (4, 2, 8), (7, 3, 6), (3, 1, 12)]
)
def test_hog_equals_skimage(cell, block, orientations):
    images = _images()
    ours = hog(torch.from_numpy(images)[:, None], cell, block, orientations)
    theirs = np.stack(
        [
            skimage_hog(
                image,
                orientations=orientations,
                pixels_per_cell=(cell, cell),
                cells_per_block=(block, block),
                block_norm="L2-Hys",
            )
            for image in images
        ]
    )
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_dense_descriptors_are_skimage_blocks():
    images = _images(3)
    ours = dense_descriptors(images, cell=4, block=2, orientations=8)
    assert ours.shape == (3, 36, 32)
    for image, descriptors in zip(images, ours, strict=True):
        blocks = skimage_hog(
            image,
            orientations=8,
            pixels_per_cell=(4, 4),
            cells_per_block=(2, 2),
            feature_vector=False,
        )  # (rows, cols, block, block, orientations)
        np.testing.assert_allclose(descriptors, blocks.reshape(36, 32), atol=1e-6)


def test_gradients_and_cell_histograms_by_hand():
    # A vertical step from 0 to 1 between columns 3 and 4: centred differences give
    # 1 at columns 3 and 4 (rows 0-7 all), orientation 0 degrees (a horizontal gradient).
    image = np.zeros((1, 8, 8))
    image[:, :, 4:] = 1.0
    magnitude, orientation = gradients(image)
    expected = np.zeros((8, 8))
    expected[:, 3:5] = 1.0
    np.testing.assert_array_equal(magnitude[0], expected)
    assert (orientation[0][expected > 0] == 0).all()
    histograms = cell_histograms(image, cell=4, orientations=4)
    # Left cells hold column 3 (4 pixels of magnitude 1), right cells column 4: mean 4 / 16.
    np.testing.assert_allclose(histograms[0, :, :, 0], 0.25)
    assert histograms[0, :, :, 1:].sum() == 0
    # The same step turned by 90 degrees votes into the 90-degree bin (bin 2 of 4).
    np.testing.assert_allclose(cell_histograms(image.transpose(0, 2, 1), 4, 4)[0, :, :, 2], 0.25)


def test_bag_of_words_matches_scikit_learn_assignments():
    rng = np.random.default_rng(1)
    descriptors = rng.standard_normal((5, 40, 6))
    kmeans = KMeans(n_clusters=7, n_init=2, random_state=0).fit(descriptors.reshape(-1, 6))
    ours = bag_of_words(descriptors, kmeans.cluster_centers_)
    labels = kmeans.predict(descriptors.reshape(-1, 6)).reshape(5, 40)
    expected = np.stack([np.bincount(row, minlength=7) / 40 for row in labels])
    np.testing.assert_allclose(ours, expected)
    np.testing.assert_allclose(ours.sum(1), 1.0)


def _fisher_by_autograd(x, w, mu, var):
    """Fisher vector from the gradient of the mixture's log-likelihood (Perronnin et al. 2010)."""
    mu_t = torch.tensor(mu, requires_grad=True)
    sigma_t = torch.tensor(np.sqrt(var), requires_grad=True)
    xt, wt = torch.tensor(x), torch.tensor(w)
    normal = torch.distributions.Normal(mu_t, sigma_t)  # (K, D)
    log_p = torch.log(wt) + normal.log_prob(xt[:, None, :]).sum(-1)  # (T, K)
    torch.logsumexp(log_p, dim=1).sum().backward()
    t = len(x)
    sigma = np.sqrt(var)
    # d/dmu = sum gamma (x - mu) / sigma^2; d/dsigma = sum gamma [(x - mu)^2 / sigma^3 - 1 / sigma]
    g_mu = sigma * mu_t.grad.numpy() / (t * np.sqrt(w)[:, None])
    g_sigma = sigma * sigma_t.grad.numpy() / (t * np.sqrt(2 * w)[:, None])
    fv = np.concatenate([g_mu.ravel(), g_sigma.ravel()])
    fv = np.sign(fv) * np.sqrt(np.abs(fv))
    return fv / np.linalg.norm(fv)


def test_fisher_vector_is_the_normalised_log_likelihood_gradient():
    rng = np.random.default_rng(2)
    descriptors = rng.standard_normal((3, 50, 4))
    gmm = GaussianMixture(3, covariance_type="diag", random_state=0).fit(descriptors.reshape(-1, 4))
    ours = fisher_vector(descriptors, gmm.weights_, gmm.means_, gmm.covariances_)
    assert ours.shape == (3, 2 * 3 * 4)
    for image, fv in zip(descriptors, ours, strict=True):
        expected = _fisher_by_autograd(image, gmm.weights_, gmm.means_, gmm.covariances_)
        np.testing.assert_allclose(fv, expected, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0)


def test_fisher_vector_of_one_gaussian_by_hand():
    # K = 1, D = 1, mean 0, variance 1: gamma = 1, G_mu = mean(x), G_sigma = mean(x^2 - 1) / sqrt(2).
    x = np.array([[[1.0], [3.0]]])
    g_mu, g_sigma = 2.0, (0 + 8) / 2 / np.sqrt(2)
    raw = np.sqrt([g_mu, g_sigma])
    np.testing.assert_allclose(
        fisher_vector(x, [1.0], [[0.0]], [[1.0]])[0], raw / np.linalg.norm(raw)
    )


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="^images"):
        hog(np.zeros((28, 28)))
    with pytest.raises(TypeError, match="^images"):
        hog(np.zeros((2, 28, 28), dtype=np.uint8))
    with pytest.raises(ValueError, match="^cell"):
        cell_histograms(np.zeros((1, 8, 8)), cell=0)
    with pytest.raises(ValueError, match="^block"):
        dense_descriptors(np.zeros((1, 8, 8)), cell=4, block=3)
    with pytest.raises(ValueError, match="^vocabulary"):
        bag_of_words(np.zeros((1, 3, 4)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="^means"):
        fisher_vector(np.zeros((1, 3, 4)), [0.5, 0.5], np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="^weights"):
        fisher_vector(np.zeros((1, 3, 1)), [1.0], [[0.0]], [[0.0]])


def test_patches_are_the_pixels_of_each_descriptor_position():
    images = _images(2, size=28)
    pixels = patches(images, cell=4, block=2)
    assert pixels.shape[:2] == dense_descriptors(images).shape[:2] == (2, 36)
    for position, (row, col) in ((0, (0, 0)), (7, (1, 1)), (35, (5, 5)), (11, (1, 5))):
        np.testing.assert_array_equal(
            pixels[1, position], images[1, 4 * row : 4 * row + 8, 4 * col : 4 * col + 8]
        )


def test_plot_hog_draws_one_line_per_bin_along_the_edges():
    image = np.zeros((8, 8))
    image[:, 4:] = 1.0  # a vertical edge: horizontal gradient, bin 0 of 4
    ax = plot_hog(image, cell=4, orientations=4)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segments = lines.get_segments()
    assert len(segments) == 2 * 2 * 4
    alphas = lines.get_colors()[:, 3]
    strongest = segments[int(np.argmax(alphas))]
    # the strongest line is (nearly) vertical: it follows the edge, not the gradient
    assert abs(strongest[1][0] - strongest[0][0]) < 0.5 * abs(strongest[1][1] - strongest[0][1])
    assert alphas.max() == 1.0
    plt.close("all")


def test_images_of_any_form_are_checked_and_plot_hog_draws_nothing_when_refusing():
    with pytest.raises(TypeError, match="^images must be an array"):
        hog("abc")
    with pytest.raises(ValueError, match="^images must hold finite values"):
        hog(np.full((1, 8, 8), np.nan))
    with pytest.raises(TypeError, match="^descriptors"):
        bag_of_words(None, np.zeros((5, 3)))
    np.testing.assert_array_equal(hog(np.zeros((1, 8, 8)).tolist()), hog(np.zeros((1, 8, 8))))
    plt.close("all")
    with pytest.raises(ValueError, match="^image must be a .*H, W"):
        plot_hog(np.zeros((2, 8, 8)))
    with pytest.raises(TypeError, match="^image must be a float"):
        plot_hog(np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(TypeError, match="^ax must be a matplotlib Axes"):
        plot_hog(np.zeros((8, 8)), ax="ax")
    assert plt.get_fignums() == []
    assert plot_hog(np.zeros((1, 8, 8))) is plt.gca()  # (1, H, W) is one image
    plt.close("all")


def _mixture(rng, k=4, d=6):
    return np.full(k, 1 / k), rng.normal(size=(k, d)), rng.uniform(0.5, 2, size=(k, d))


def test_fisher_vector_and_bag_of_words_stay_under_the_memory_budget(monkeypatch):
    """Issue 24's class: 256 images at a time, whatever their size (600 MiB measured for
    300 x 200 descriptors and a 16 x 32 mixture); now as many images as MEMORY_MB allows."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 100, 6))
    weights, means, variances = _mixture(rng)
    vocabulary = rng.normal(size=(50, 6))
    expected = features.fisher_vector(x, weights, means, variances)
    words = features.bag_of_words(x, vocabulary)
    monkeypatch.setattr(features, "MEMORY_MB", 0.25)  # 256 KiB: a few images per step
    tracemalloc.start()
    try:
        np.testing.assert_allclose(features.fisher_vector(x, weights, means, variances), expected)
        np.testing.assert_allclose(features.bag_of_words(x, vocabulary), words)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * 2**20  # at 256 images a step: 40 x 100 x 4 x 6 x 8 x 4 bytes = 3 MiB


def test_one_image_over_the_budget_is_refused_with_the_limit(monkeypatch):
    rng = np.random.default_rng(0)
    monkeypatch.setattr(features, "MEMORY_MB", 0.01)
    with pytest.raises(ValueError, match="^descriptors: fisher_vector needs .*MEMORY_MB"):
        features.fisher_vector(rng.normal(size=(2, 100, 6)), *_mixture(rng))
    with pytest.raises(ValueError, match="^descriptors: bag_of_words needs .*MEMORY_MB"):
        features.bag_of_words(rng.normal(size=(2, 100, 6)), rng.normal(size=(50, 6)))


def test_meta_tensors_are_named():
    with pytest.raises(ValueError, match="^images is on the meta device"):
        features.hog(torch.rand(2, 1, 28, 28, device="meta"))
