"""Tests of course_utils.evolution (Zeiler & Fergus, Fig. 4).

The shipped checkpoints are checked against the history the training run
recorded (an independent record: the accuracies were measured during training),
the checksum guard against damaged files, the strongest units against
``cu.deconvnet.top_activations`` (an independent implementation), and the
response correlation against NumPy's ``corrcoef`` on activations computed here.
"""

import shutil

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.download import ChecksumError
from course_utils.evolution import (
    CHECKPOINTS,
    EPOCHS,
    correlation,
    history,
    load_epoch,
    map_maxima,
    response_correlation,
    strongest_units,
)


@pytest.fixture(scope="module")
def test_images():
    images, labels = cu.data.load_fashion_mnist("test").tensors()
    return images[:200], labels[:200]


def test_each_checkpoint_has_the_test_accuracy_its_run_recorded():
    torch.set_num_threads(1)
    table = history()
    assert list(table["epoch"]) == list(range(1, 13))
    test = cu.data.load_fashion_mnist("test")
    for epoch in CHECKPOINTS:
        accuracy = cu.train.evaluate(load_epoch(epoch), test)
        recorded = table.loc[table["epoch"] == epoch, "test_accuracy"].item()
        assert accuracy == pytest.approx(recorded, abs=1e-3), epoch


def test_epoch_zero_is_the_seeded_initialisation_and_leaves_the_random_stream_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    model = load_epoch(0)
    assert torch.equal(torch.rand(3), expected_next)  # the caller's stream went on unchanged
    torch.manual_seed(0)
    fresh = cu.models.small_zfnet()
    assert all(
        torch.equal(a, b) for a, b in zip(model.parameters(), fresh.parameters(), strict=True)
    )
    assert not model.training
    assert cu.train.evaluate(model, cu.data.load_fashion_mnist("test")) < 0.2  # untrained


def test_load_epoch_refuses_unknown_epochs_and_damaged_or_missing_files(tmp_path):
    assert EPOCHS == (0, 1, 2, 5, 12)
    with pytest.raises(ValueError, match="epoch"):
        load_epoch(3)
    with pytest.raises(ValueError, match="path"):
        load_epoch(0, path=tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError, match="train_evolution"):
        load_epoch(5, path=tmp_path / "missing.pt")
    damaged = tmp_path / "damaged.pt"
    shutil.copy(cu.models.checkpoint_dir() / CHECKPOINTS[5][0], damaged)
    with damaged.open("r+b") as file:
        file.seek(1000)
        file.write(b"\x00\x01\x02")
    with pytest.raises(ChecksumError, match="nothing was loaded"):
        load_epoch(5, path=damaged)


@pytest.mark.parametrize("layer", ["features.1", "features.9", "features.13"])
def test_strongest_units_equal_top_activations_with_k_1(test_images, layer):
    model = load_epoch(2)
    images = test_images[0]
    ours = strongest_units(model, images, layer, batch_size=64)
    theirs = cu.deconvnet.top_activations(model, images, layer, k=1, progress=False)
    for column in ("channel", "image", "row", "column"):
        np.testing.assert_array_equal(ours[column].to_numpy(), theirs[column].to_numpy())
    np.testing.assert_allclose(ours["activation"], theirs["activation"], rtol=1e-5)


def test_strongest_units_refuse_a_flat_layer(test_images):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        strongest_units(load_epoch(1), test_images[0][:4], "classifier.5")


def _snapshot(model):
    return (
        [m.training for m in model.modules()],
        [p.grad for p in model.parameters()],
        [dict(m._forward_hooks) for m in model.modules()],
    )


def test_response_correlation_equals_numpy_and_leaves_both_models_as_found(test_images):
    first, last = load_epoch(1), load_epoch(12)
    first.train()  # dropout on: the helper must run in eval mode and put it back
    last.features[0].weight.grad = torch.ones_like(last.features[0].weight)
    before = (_snapshot(first), _snapshot(last))
    images = test_images[0][:100]
    ours = response_correlation(first, last, images, "features.9", batch_size=30)
    after = (_snapshot(first), _snapshot(last))
    assert before[0][0] == after[0][0] and before[1][0] == after[1][0]
    assert all(a is b for a, b in zip(before[1][1], after[1][1], strict=True))
    summaries = []
    for model in (first, last):
        model.eval()
        with torch.no_grad():
            maps = model.features[:10](model.resize(images))  # conv3 after its ReLU
        summaries.append(maps.amax(dim=(2, 3)).double().numpy())
    channels = summaries[0].shape[1]
    expected = np.corrcoef(summaries[0].T, summaries[1].T)[:channels, channels:]
    np.testing.assert_allclose(ours.numpy(), expected, atol=1e-5)
    assert ours.shape == (channels, channels)


def test_response_correlation_of_a_model_with_itself_is_one_on_the_diagonal():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2))
    images = torch.rand(20, 1, 8, 8)
    model(images[:1])
    r = response_correlation(model, model, images, "1")
    torch.testing.assert_close(r.diagonal(), torch.ones(3))
    with pytest.raises(ValueError, match="at least 2"):
        response_correlation(model, model, images[:1], "1")
    with pytest.raises(ValueError, match="layer"):
        response_correlation(model, model, images, "features.9")


def test_map_maxima_and_correlation_by_hand():
    model = nn.Sequential(nn.Identity())
    images = torch.tensor([[[[1.0, 5.0], [2.0, 0.0]]], [[[0.0, 0.0], [3.0, 0.0]]]])
    maxima = map_maxima(model, images, ["0"])["0"]
    assert maxima.tolist() == [[5.0], [3.0]]
    x = torch.tensor([[1.0, 2.0], [2.0, 4.0], [4.0, 1.0]])
    expected = np.corrcoef(x.numpy().T, (x**2).numpy().T)[:2, 2:]
    np.testing.assert_allclose(correlation(x, x**2).numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="same number of rows"):
        correlation(x, x[:2])
