"""Tests of course_utils.train: determinism, the history, evaluation, renormalisation."""

import math
from functools import partial

import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.data import ImageSet
from course_utils.models import small_alexnet, small_zfnet
from course_utils.train import evaluate, fit, predict, renormalize_filters_


@pytest.fixture(scope="module")
def subset() -> ImageSet:
    full = cu.data.load_fashion_mnist("train", verbose=False)
    return ImageSet(full.images[:192], full.labels[:192], full.classes, "train", "test subset")


def _trained(builder, subset, seed, **kwargs):
    cu.seed_everything(seed)
    model = builder()
    history = fit(model, subset, epochs=1, batch_size=64, seed=seed, progress=False, **kwargs)
    return model, history


@pytest.mark.parametrize("builder", [small_alexnet, small_zfnet])
def test_same_seed_gives_identical_weights(builder, subset):
    first, history_1 = _trained(builder, subset, seed=3)
    second, history_2 = _trained(builder, subset, seed=3)
    for (name, a), (_, b) in zip(
        first.state_dict().items(), second.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert history_1["train_loss"].tolist() == history_2["train_loss"].tolist()


def test_another_seed_gives_other_weights(subset):
    first, _ = _trained(small_zfnet, subset, seed=0)
    second, _ = _trained(small_zfnet, subset, seed=1)
    assert not torch.equal(first.features[0].weight, second.features[0].weight)


def test_training_changes_the_weights_and_lowers_the_loss(subset):
    cu.seed_everything(0)
    model = small_zfnet()
    before = model.features[0].weight.detach().clone()
    history = fit(model, subset, epochs=3, batch_size=32, lr=0.02, seed=0, progress=False)
    assert not torch.equal(before, model.features[0].weight)
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert list(history.columns) == ["epoch", "train_loss", "train_accuracy", "seconds"]
    assert history["epoch"].tolist() == [1, 2, 3]
    assert model.training  # as it was found (a fresh model is in train mode)


def test_renormalisation_during_training(subset):
    model, _ = _trained(
        small_zfnet, subset, seed=0, lr=0.2, after_step=partial(renormalize_filters_, max_rms=0.05)
    )
    for conv in (m for m in model.modules() if isinstance(m, torch.nn.Conv2d)):
        rms = conv.weight.pow(2).mean(dim=(1, 2, 3)).sqrt()
        assert (rms <= 0.05 + 1e-6).all()


def test_evaluate_is_the_fraction_of_argmax_hits(subset):
    cu.seed_everything(0)
    model = small_alexnet()
    scores = predict(model, subset, batch_size=50)
    assert scores.shape == (192, 10)
    by_hand = (scores.argmax(dim=1) == subset.labels).double().mean().item()
    assert evaluate(model, subset) == pytest.approx(by_hand)
    assert evaluate(model, subset, k=10) == pytest.approx(1.0)


def test_predict_does_not_depend_on_the_batch_size(subset):
    cu.seed_everything(0)
    model = small_zfnet()
    torch.testing.assert_close(predict(model, subset, batch_size=7), predict(model, subset))


def test_fit_with_test_set_reports_test_accuracy(subset):
    cu.seed_everything(0)
    model = small_zfnet()
    history = fit(model, subset, test_set=subset, epochs=1, progress=False)
    assert history["test_accuracy"].iloc[0] == pytest.approx(evaluate(model, subset))


def test_fit_rejects_bad_arguments(subset):
    model = small_zfnet()
    with pytest.raises(TypeError, match="^train_set"):
        fit(model, torch.zeros(3, 1, 28, 28))
    with pytest.raises(ValueError, match="^epochs"):
        fit(model, subset, epochs=0)
    with pytest.raises(ValueError, match="^lr"):
        fit(model, subset, lr=0)


def _hand_loop(model, subset, *, epochs, batch_size, lr, cosine, seed):
    """fit's recipe written out from its docstring: seeded order, SGD with momentum 0.9 and
    weight decay 5e-4, learning rate lr * (1 + cos(pi * step / total_steps)) / 2 for cosine."""
    images, labels = subset.tensors()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    generator = torch.Generator().manual_seed(seed)
    steps = epochs * -(-len(labels) // batch_size)
    step, rows = 0, []
    for _ in range(epochs):
        losses, correct = [], 0
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            for group in optimizer.param_groups:
                group["lr"] = lr * (1 + math.cos(math.pi * step / steps)) / 2 if cosine else lr
            scores = model(images[batch])
            loss = torch.nn.functional.cross_entropy(scores, labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            losses.append(loss.item())
            correct += int((scores.argmax(1) == labels[batch]).sum())
        rows.append((sum(losses) / len(losses), correct / len(labels)))
    return rows


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_fit_is_the_documented_recipe(subset, schedule):
    def linear():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10))

    ours, reference = linear(), linear()
    history = fit(
        ours, subset, epochs=2, batch_size=64, lr=0.05, lr_schedule=schedule, seed=5, progress=False
    )
    rows = _hand_loop(
        reference, subset, epochs=2, batch_size=64, lr=0.05, cosine=schedule == "cosine", seed=5
    )
    for a, b in zip(ours.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(a, b)
    assert history["train_loss"].tolist() == pytest.approx([r[0] for r in rows])
    assert history["train_accuracy"].tolist() == pytest.approx([r[1] for r in rows])


def test_predict_keeps_the_training_mode(subset):
    model = small_zfnet()
    model.train()
    predict(model, subset)
    assert model.training
    model.eval()
    predict(model, subset)
    assert not model.training


def test_fit_checks_arguments_before_training(subset):
    model = small_zfnet()
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(TypeError, match="^after_step must"):
        fit(model, subset, after_step=0.1, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_renormalize_filters_rescales_only_large_filters():
    conv = nn.Conv2d(2, 3, kernel_size=2)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0] = 1.0  # RMS 1.0: rescaled to 0.1
        conv.weight[1] = 0.05  # RMS 0.05: untouched
        conv.weight[2, 0, 0, 0] = 0.3  # RMS sqrt(0.09 / 8) ~ 0.106: rescaled
        conv.bias.fill_(7.0)
    before = conv.weight.detach().clone()
    model = nn.Sequential(conv, nn.Linear(4, 4))
    linear_before = model[1].weight.detach().clone()
    assert renormalize_filters_(model, max_rms=0.1) == 2
    rms = conv.weight.pow(2).mean(dim=(1, 2, 3)).sqrt()
    torch.testing.assert_close(rms[[0, 2]], torch.tensor([0.1, 0.1]))
    assert torch.equal(conv.weight[1], before[1])
    # Direction kept: filter 0 is all 0.1 now.
    torch.testing.assert_close(conv.weight[0], torch.full((2, 2, 2), 0.1))
    assert torch.equal(conv.bias, torch.full((3,), 7.0))
    assert torch.equal(model[1].weight, linear_before)
    assert renormalize_filters_(model, max_rms=0.1) == 0


def test_renormalize_filters_rejects_bad_arguments():
    with pytest.raises(ValueError, match="^max_rms"):
        renormalize_filters_(nn.Conv2d(1, 1, 1), max_rms=0)
    with pytest.raises(TypeError, match="^model"):
        renormalize_filters_("model")


def test_a_diverging_fit_raises_instead_of_returning_nan_weights(subset):
    # Issue 24: fit(model, data, lr=1e30) returned normally with inf/NaN weights.
    cu.seed_everything(0)
    with pytest.raises(FloatingPointError, match="lower lr"):
        fit(small_alexnet(), subset, epochs=1, lr=1e30)


def test_fit_with_nothing_to_train_is_refused(subset):
    model = small_alexnet().requires_grad_(False)
    with pytest.raises(ValueError, match="^model has no parameter with requires_grad"):
        fit(model, subset, epochs=1)


def test_evaluate_names_images_the_model_cannot_take(subset):
    wrong = nn.Sequential(nn.Flatten(), nn.Linear(10, 10))
    with pytest.raises(ValueError, match="^model cannot take the images of dataset"):
        evaluate(wrong, subset)
