"""Tests of course_utils.ablation: zeroing maps against a copy whose filters are set to zero
by hand, removal against the network rebuilt without the layer, accuracy drops against
course_utils.metrics.topk_accuracy on that hand-made copy; and the model is never changed."""

import copy
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils.ablation import (
    feature_map_drops,
    paper_table3,
    remove_layers,
    replace_layers,
    retrained_variants,
    zero_feature_maps,
)
from course_utils.data import ImageSet
from course_utils.metrics import topk_accuracy
from course_utils.models import checkpoint_history


def _model() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(4, 4, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 3),
    ).eval()


def _dataset(n: int = 60) -> ImageSet:
    generator = torch.Generator().manual_seed(2)
    images = torch.randint(0, 256, (n, 8, 8), dtype=torch.uint8, generator=generator)
    labels = torch.randint(0, 3, (n,), generator=generator)
    return ImageSet(images, labels, ("a", "b", "c"), "test", "random")


def _silenced(model: nn.Sequential, index: int, channels: list[int]) -> nn.Sequential:
    """A copy in which conv ``index`` has zero weights and bias for ``channels``."""
    silenced = copy.deepcopy(model)
    with torch.no_grad():
        silenced[index].weight[channels] = 0
        silenced[index].bias[channels] = 0
    return silenced


def _same(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_zero_feature_maps_equals_zeroed_filters_and_restores():
    model = _model()
    before = copy.deepcopy(model)
    x = torch.rand(5, 1, 8, 8)
    intact = model(x)
    with zero_feature_maps(model, "2", [1, 3]) as inside:
        assert inside is model
        torch.testing.assert_close(model(x), _silenced(model, 2, [1, 3])(x))
        assert not torch.allclose(model(x), intact)
    assert torch.equal(model(x), intact)
    assert _same(model, before)
    assert all(not m._forward_hooks for m in model.modules())


def test_zero_feature_maps_restores_after_an_error():
    model = _model()
    with pytest.raises(RuntimeError, match="boom"), zero_feature_maps(model, model[0], 2):
        raise RuntimeError("boom")
    assert all(not m._forward_hooks for m in model.modules())


def test_remove_layers_equals_the_network_without_them():
    model = _model()
    before = copy.deepcopy(model)
    removed = remove_layers(model, ["2", model[3]])
    rebuilt = nn.Sequential(*[m for i, m in enumerate(model) if i not in (2, 3)])
    x = torch.rand(4, 1, 8, 8)
    torch.testing.assert_close(removed(x), rebuilt(x))
    assert isinstance(removed[2], nn.Identity) and isinstance(removed[3], nn.Identity)
    assert isinstance(model[2], nn.Conv2d) and _same(model, before)


def test_replace_layers_returns_an_independent_copy():
    model = _model()
    before = copy.deepcopy(model)
    new = nn.Linear(16, 5)
    replaced = replace_layers(model, {"6": new})
    assert isinstance(replaced[6], nn.Linear) and replaced[6] is not new  # a copy of it
    assert torch.equal(replaced[6].weight, new.weight) and model[6] is not new
    assert replaced(torch.rand(2, 1, 8, 8)).shape == (2, 5)
    with torch.no_grad():
        replaced[0].weight.add_(1.0)  # training the copy must not touch the original
    assert _same(model, before)
    assert not replaced.training  # the copy keeps the model's mode


def test_feature_map_drops_equal_accuracies_of_silenced_copies():
    model = _model()
    data = _dataset()
    images, labels = data.tensors()
    table = feature_map_drops(model, data, "2", progress=False)
    intact = topk_accuracy(model(images).detach(), labels)
    assert table["channel"].tolist() == [0, 1, 2, 3]
    for channel in range(4):
        accuracy = topk_accuracy(_silenced(model, 2, [channel])(images).detach(), labels)
        row = table.iloc[channel]
        assert row["accuracy"] == pytest.approx(accuracy)
        assert row["drop"] == pytest.approx(intact - accuracy)
    top2 = feature_map_drops(model, data, "2", channels=[2], k=2, progress=False)
    accuracy = topk_accuracy(_silenced(model, 2, [2])(images).detach(), labels, k=2)
    assert top2["accuracy"].tolist() == pytest.approx([accuracy])


def test_bad_arguments_raise_clear_errors():
    model = _model()
    with pytest.raises(ValueError, match="^channels"), zero_feature_maps(model, "0", -1):
        pass
    with pytest.raises(ValueError, match="^channels"), zero_feature_maps(model, "0", 4):
        model(torch.rand(1, 1, 8, 8))
    with pytest.raises(ValueError, match="^layer"), zero_feature_maps(model, "conv9", 0):
        pass
    with pytest.raises(TypeError, match="^layers"):
        remove_layers(model, "2")
    with pytest.raises(TypeError, match="^replacements"):
        replace_layers(model, [nn.Identity()])
    with pytest.raises(ValueError, match="^replacements"):
        replace_layers(model, {"9": nn.Identity()})
    with pytest.raises(TypeError, match="^replacements"):
        replace_layers(model, {"2": "identity"})
    with pytest.raises(TypeError, match="^dataset"):
        feature_map_drops(model, torch.zeros(3, 1, 8, 8), "2", progress=False)


def test_paper_table3_agrees_with_the_papers_table2():
    # Zeiler & Fergus (2014) print three of Table 3's rows in Table 2 as well (val top-1, top-5).
    table = paper_table3().set_index(["model", "variant"])
    table2 = {
        ("Krizhevsky et al. (2012)", "baseline"): (40.5, 18.1),  # "Our replication ..."
        ("Zeiler & Fergus (2014)", "baseline"): (38.4, 16.5),  # "1 convnet as per Fig. 3"
        ("Zeiler & Fergus (2014)", "conv3-5 bigger"): (37.5, 16.0),  # "... 512,1024,512 maps"
    }
    for key, (top1, top5) in table2.items():
        assert tuple(table.loc[key, ["val_top1_error", "val_top5_error"]]) == (top1, top5)
    assert len(table) == 12  # 7 rows for Krizhevsky et al.'s model, 5 for their own
    assert (table["val_top5_error"] < table["val_top1_error"]).all()


def test_retrained_variants_match_the_script_that_made_them():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    try:
        import train_ablations
    finally:
        sys.path.pop(0)
    results = retrained_variants()
    for (model_name, variant), rows in results.groupby(["model", "variant"]):
        built = train_ablations.build(model_name, variant, seed=0)
        assert (rows["params"] == sum(p.numel() for p in built.parameters())).all()
        assert sorted(rows["seed"]) in ([0, 1, 2], [0, 1, 2, 3, 4])  # 3, or 5 for some
    assert set(results["variant"]) == set(train_ablations.VARIANTS)
    # Same recipe and seed as the shipped checkpoint: close to its final test accuracy.
    history = checkpoint_history()
    shipped = history[history["model"] == "small_alexnet"]["test_accuracy"].iloc[-1]
    ours = results.query("model == 'small_alexnet' and variant == 'baseline' and seed == 0")
    assert abs(float(ours["test_accuracy"].iloc[0]) - shipped) <= 0.02
    assert results[["train_accuracy", "test_accuracy"]].stack().between(0, 1).all()


def test_channels_and_layers_are_checked_before_any_work():
    model = _model()
    with pytest.raises(ValueError, match="^channels must be .* at least one"):
        with zero_feature_maps(model, "0", []):
            pass
    with pytest.raises(TypeError, match="^channels must be an int, a list"):
        with zero_feature_maps(model, "0", "ab"):
            pass
    with pytest.raises(TypeError, match="^channels"):
        with zero_feature_maps(model, "0", [True]):
            pass
    with zero_feature_maps(model, "0", torch.tensor([1, 2])):  # an int tensor is a list of maps
        assert model(torch.rand(1, 1, 8, 8)).shape[0] == 1
    with pytest.raises(ValueError, match="^layers must be .* at least one"):
        remove_layers(model, [])
    with pytest.raises(ValueError, match="^layers '9'"):
        remove_layers(model, ["9"])
    with pytest.raises(ValueError, match="^replacements must name at least one layer"):
        replace_layers(model, {})
    # checked before the dataset is evaluated (evaluate would refuse None with a TypeError)
    with pytest.raises(ValueError, match="^channels"):
        feature_map_drops(model, None, "0", channels=[], progress=False)


def test_replace_layers_shares_nothing_with_the_original():
    # Issue 24: a replacement that is one of the model's own modules went into the
    # "copy" as it was, so training the copy changed the original.
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 1))
    copy = replace_layers(model, {"2": model[0]})
    own = {id(t) for t in model.parameters()} | {id(m) for m in model.modules()}
    assert not own & ({id(t) for t in copy.parameters()} | {id(m) for m in copy.modules()})


def test_feature_map_drops_checks_channels_before_evaluating(monkeypatch):
    import course_utils.ablation as ablation

    model, data = _model(), _dataset()
    calls = []
    monkeypatch.setattr(ablation, "evaluate", lambda *a, **k: calls.append(1) or 0.5)
    with pytest.raises(ValueError, match="^channels must be below"):
        feature_map_drops(model, data, "2", channels=[999])
    assert calls == []
