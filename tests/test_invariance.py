"""Tests of course_utils.invariance (Zeiler & Fergus, Fig. 5).

The transforms are checked against torchvision's ``affine`` (an independent
implementation) and hand-worked cases (whole-pixel shifts, ``torch.rot90``, a
full turn); the distances against NumPy; the probability against a model whose
output is known; and every model-taking helper leaves the model as it found it.
"""

import math

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.transforms.v2 import functional as TF

from course_utils.invariance import KINDS, distances, feature_vectors, invariance, transform


def _images(n=3, c=1, h=28, w=28, seed=0):
    return torch.rand(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def _torchvision(images, kind, amount):
    """The same transformation with torchvision (whose positive angle turns clockwise)."""
    angle, translate, scale = 0.0, [0.0, 0.0], 1.0
    if kind == "translation":
        translate = [0.0, float(amount)]
    elif kind == "scale":
        scale = float(amount)
    else:
        angle = -float(amount)
    return TF.affine(
        images,
        angle=angle,
        translate=translate,
        scale=scale,
        shear=[0.0, 0.0],
        interpolation=TF.InterpolationMode.BILINEAR,
    )


@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 20, 31)])
@pytest.mark.parametrize(
    "kind,amount",
    [
        ("translation", 3),
        ("translation", -5.5),
        ("translation", 0.25),
        ("scale", 0.6),
        ("scale", 1.3),
        ("scale", 2.0),
        ("rotation", 10),
        ("rotation", -37),
        ("rotation", 135),
        ("rotation", 290),
    ],
)
def test_transform_equals_torchvision_affine(shape, kind, amount):
    images = torch.rand(*shape, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(
        transform(images, kind, amount), _torchvision(images, kind, amount), atol=1e-5, rtol=0
    )


def test_whole_pixel_translation_moves_pixels_down_and_fills_zeros():
    images = _images()
    moved = transform(images, "translation", 4)
    expected = torch.zeros_like(images)
    expected[:, :, 4:] = images[:, :, :-4]
    torch.testing.assert_close(moved, expected, atol=1e-5, rtol=0)
    up = transform(images, "translation", -2)
    expected = torch.zeros_like(images)
    expected[:, :, :-2] = images[:, :, 2:]
    torch.testing.assert_close(up, expected, atol=1e-5, rtol=0)


def test_translating_a_constant_image_keeps_the_constant_where_the_image_still_is():
    images = torch.full((1, 1, 10, 10), 0.5)
    moved = transform(images, "translation", 3)
    assert torch.equal(moved[:, :, :3], torch.zeros(1, 1, 3, 10))
    torch.testing.assert_close(moved[:, :, 3:], torch.full((1, 1, 7, 10), 0.5))


def test_quarter_turns_are_rot90_counter_clockwise_and_a_full_turn_is_the_identity():
    images = _images(c=2, h=12, w=12)
    for k in range(1, 4):
        torch.testing.assert_close(
            transform(images, "rotation", 90 * k),
            torch.rot90(images, k, dims=(2, 3)),
            atol=1e-5,
            rtol=0,
        )
    torch.testing.assert_close(transform(images, "rotation", 360), images, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        transform(images, "rotation", -90), torch.rot90(images, -1, (2, 3)), atol=1e-5, rtol=0
    )


def test_identity_amounts_return_the_images_and_scale_two_doubles_a_centred_square():
    images = _images()
    for kind, amount in [("translation", 0), ("scale", 1), ("rotation", 0)]:
        out = transform(images, kind, amount)
        assert torch.equal(out, images) and out is not images
    square = torch.zeros(1, 1, 16, 16)
    square[..., 6:10, 6:10] = 1.0  # 4x4 about the centre (7.5, 7.5)
    big = transform(square, "scale", 2.0)
    assert torch.equal(big[..., 5:11, 5:11], torch.ones(1, 1, 6, 6))  # inside the 8x8 square
    assert big[..., :3, :].abs().max() == 0 and big[..., 13:, :].abs().max() == 0


def test_transform_refuses_bad_input():
    with pytest.raises(ValueError, match="kind"):
        transform(_images(), "shear", 1)
    with pytest.raises(ValueError, match="amount"):
        transform(_images(), "scale", 0)
    with pytest.raises(TypeError, match="amount"):
        transform(_images(), "rotation", "90")
    with pytest.raises(ValueError, match="images"):
        transform(torch.rand(28, 28), "rotation", 90)
    with pytest.raises(TypeError, match="images"):
        transform(torch.zeros(1, 1, 4, 4, dtype=torch.long), "rotation", 90)
    assert set(KINDS) == {"translation", "scale", "rotation"}


def test_distances_against_numpy_and_by_hand():
    assert distances(torch.tensor([[3.0, 4.0]]), torch.zeros(1, 2), normalize="none").item() == 5.0
    assert distances(torch.tensor([[3.0, 4.0]]), torch.zeros(1, 2)).item() == 1.0
    assert distances(torch.zeros(1, 2), torch.zeros(1, 2)).item() == 0.0
    a, b = torch.randn(5, 7, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    expected = np.linalg.norm(b.numpy() - a.numpy(), axis=1)
    np.testing.assert_allclose(distances(a, b, normalize="none").numpy(), expected)
    np.testing.assert_allclose(
        distances(a, b).numpy(), expected / np.linalg.norm(a.numpy(), axis=1)
    )
    with pytest.raises(ValueError, match="same shape"):
        distances(a, b[:, :3])
    with pytest.raises(ValueError, match="normalize"):
        distances(a, b, normalize="l1")


def _guarded_model():
    """A small CNN in train mode, with dropout, a hook, grads and an in-place ReLU."""
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5),
        nn.Linear(4 * 14 * 14, 3),
    )
    model.train()
    model[0].weight.grad = torch.ones_like(model[0].weight)
    calls = []
    model[1].register_forward_hook(lambda *args: calls.append(1))
    return model, calls


def _snapshot(model):
    return (
        [m.training for m in model.modules()],
        [p.grad for p in model.parameters()],
        [p.requires_grad for p in model.parameters()],
        [dict(m._forward_hooks) for m in model.modules()],
        [getattr(m, "inplace", None) for m in model.modules()],
        [p.detach().clone() for p in model.parameters()],
    )


def _same(before, after):
    modes, grads, requires, hooks, inplace, values = before
    m2, g2, r2, h2, i2, v2 = after
    assert modes == m2 and requires == r2 and inplace == i2
    assert all(a is b for a, b in zip(grads, g2, strict=True))
    assert [list(h) for h in hooks] == [list(h) for h in h2]
    assert all(torch.equal(a, b) for a, b in zip(values, v2, strict=True))


def test_feature_vectors_are_the_layers_outputs_in_eval_mode_and_the_model_is_left_as_found():
    model, calls = _guarded_model()
    images = _images(n=5)
    before = _snapshot(model)
    vectors = feature_vectors(model, images, ["2", "5"], batch_size=2)
    _same(before, _snapshot(model))
    assert len(calls) == 3  # the caller's hook ran (once per batch) and is still there
    model.eval()
    with torch.no_grad():
        expected_pool = model[:3](images).flatten(1)
        expected_out = model(images)
    torch.testing.assert_close(vectors["2"], expected_pool)
    torch.testing.assert_close(vectors["5"], expected_out)  # no dropout: eval mode


def test_invariance_of_an_identity_feature_and_a_known_probability():
    # Layer "0" is the image itself, so its distance is ||T(x) - x|| computed by torchvision;
    # the classifier gives the same scores to every image: probabilities 1/4, 1/2, 1/4.
    linear = nn.Linear(8 * 8, 3)
    nn.init.zeros_(linear.weight)
    with torch.no_grad():
        linear.bias.copy_(torch.tensor([0.0, math.log(2.0), 0.0]))
    model = nn.Sequential(nn.Flatten(), linear)
    images = _images(n=4, h=8, w=8)
    labels = [0, 1, 2, 1]
    for kind, amounts in [
        ("translation", [-2, 0, 1.5]),
        ("scale", [0.8, 1, 1.4]),
        ("rotation", [0, 45, 360]),
    ]:
        table = invariance(model, images, labels, kind, amounts, "0", normalize="none")
        assert list(table.columns) == ["amount", "image", "label", "probability", "predicted", "0"]
        assert len(table) == len(amounts) * len(images)
        for amount in amounts:
            rows = table[table["amount"] == amount]
            moved = _torchvision(images, kind, amount)
            expected = (moved - images).flatten(1).norm(dim=1).numpy()
            np.testing.assert_allclose(rows["0"].to_numpy(), expected, atol=1e-5)
            np.testing.assert_allclose(
                rows["probability"].to_numpy(), [0.25, 0.5, 0.25, 0.5], rtol=1e-6
            )
            assert (rows["predicted"] == 1).all()
        identity = table[table["amount"].isin([0, 1, 360])]
        assert identity["0"].abs().max() < 1e-5


def test_invariance_of_a_constant_image_under_translation_is_zero_in_a_global_pooled_feature():
    # Global average pooling of a constant image that stays inside the frame: the
    # relative distance is the fraction of the image that leaves it (3 of 10 rows: 0.3).
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1, 2))
    images = torch.full((1, 1, 10, 10), 0.5)
    table = invariance(model, images, [0], "translation", [0, 3], ["1"])
    np.testing.assert_allclose(table["1"].to_numpy(), [0.0, 0.3], atol=1e-6)


def test_invariance_leaves_the_model_as_found():
    model, calls = _guarded_model()
    images = _images(n=3)
    before = _snapshot(model)
    table = invariance(model, images, [0, 1, 2], "rotation", [0, 90], ["0", "2"], batch_size=2)
    _same(before, _snapshot(model))
    assert len(table) == 6


def test_invariance_refuses_bad_input():
    model, _ = _guarded_model()
    images = _images(n=2)
    with pytest.raises(ValueError, match="labels"):
        invariance(model, images, [0], "rotation", [0], "0")
    with pytest.raises(ValueError, match="layer"):
        invariance(model, images, [0, 1], "rotation", [0], "features.9")
    with pytest.raises(ValueError, match="amounts"):
        invariance(model, images, [0, 1], "scale", [1, -1], "0")
    with pytest.raises(ValueError, match="amounts"):
        invariance(model, images, [0, 1], "scale", [], "0")
    with pytest.raises(ValueError, match="column for every label"):
        invariance(model, images, [0, 7], "rotation", [0], "0")
    shared = nn.ReLU()
    twice = nn.Sequential(nn.Conv2d(1, 1, 1), shared, nn.Conv2d(1, 1, 1), shared)
    with pytest.raises(ValueError, match="runs once"):
        feature_vectors(twice, images, "1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_invariance_runs_on_the_models_device():
    model, _ = _guarded_model()
    model = model.cuda()
    table = invariance(model, _images(n=2), [0, 1], "scale", [1, 1.2], ["2"])
    vectors = feature_vectors(model, _images(n=2), "2")
    assert vectors["2"].device.type == "cuda" and len(table) == 4
