"""Tests of course_utils.occlusion: each of Fig. 7's views against a naive loop over square
positions (one forward pass per position, written out here), the attribution against
Captum's ``Occlusion``, and a hand-worked example."""

import matplotlib.pyplot as plt
import pytest
import torch
from captum.attr import Occlusion
from torch import nn

from course_utils.occlusion import (
    occlusion_attribution,
    occlusion_maps,
    part_correspondence,
    window_starts,
)
from course_utils.plotting import occlusion_panels


def _small_model(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Conv2d(2, 6, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),  # in place, as in AlexNet: the views must not be fooled by it
        nn.Conv2d(6, 5, kernel_size=3, stride=2),
        nn.ReLU(),
        nn.Dropout(0.5),  # must be off during occlusion (eval mode)
        nn.Flatten(),
        nn.LazyLinear(4),
    ).double()
    model(torch.zeros(1, 2, 11, 9, dtype=torch.float64))  # materialise the lazy layer
    return model


def _images(n: int = 2) -> torch.Tensor:
    return torch.rand(n, 2, 11, 9, dtype=torch.float64, generator=torch.Generator().manual_seed(1))


def _naive_starts(size: int, window: int, stride: int) -> list[int]:
    """Captum's rule said in words: step by stride until a window reaches the last pixel."""
    starts = [0]
    while starts[-1] + window < size:
        starts.append(starts[-1] + stride)
    return starts


def _naive_views(model, images, target, window, stride, baseline, watched):
    """Fig. 7 (b, d, e) with one forward pass per square position."""
    model.eval()
    results = []
    with torch.no_grad():
        for n, image in enumerate(images):
            maps = model[:watched](image[None].clone())[0]
            channel = int(maps.flatten(1).max(dim=1).values.argmax())
            rows = _naive_starts(image.shape[1], window[0], stride[0])
            cols = _naive_starts(image.shape[2], window[1], stride[1])
            views = torch.zeros(3, len(rows), len(cols), dtype=images.dtype)
            for i, r in enumerate(rows):
                for j, c in enumerate(cols):
                    copy = image.clone()
                    copy[:, r : r + window[0], c : c + window[1]] = baseline
                    views[0, i, j] = model[:watched](copy[None].clone())[0, channel].sum()
                    probabilities = torch.softmax(model(copy[None]), dim=1)[0]
                    views[1, i, j] = probabilities[target[n]]
                    views[2, i, j] = probabilities.argmax()
            results.append((channel, views))
    return results


def _naive_attribution(model, images, target, window, stride, baseline):
    model.eval()
    total = torch.zeros_like(images)
    count = torch.zeros_like(images)
    with torch.no_grad():
        for n, image in enumerate(images):
            score = model(image[None])[0, target[n]]
            for r in _naive_starts(image.shape[1], window[0], stride[0]):
                for c in _naive_starts(image.shape[2], window[1], stride[1]):
                    copy = image.clone()
                    copy[:, r : r + window[0], c : c + window[1]] = baseline
                    drop = score - model(copy[None])[0, target[n]]
                    total[n, :, r : r + window[0], c : c + window[1]] += drop
                    count[n, :, r : r + window[0], c : c + window[1]] += 1
    return total / count


@pytest.mark.parametrize(
    ("window", "stride", "baseline", "layer"),
    [
        ((3, 3), (1, 1), 0.0, "1"),
        ((4, 3), (3, 2), 0.5, "0"),  # a conv whose output an in-place ReLU overwrites next
        ((5, 2), (2, 2), -1.0, "3"),
    ],
)
def test_maps_equal_a_naive_loop(window, stride, baseline, layer):
    model = _small_model()
    images = _images()
    target = torch.tensor([1, 3])
    ours = occlusion_maps(
        model, images, layer, target=target, window=window, stride=stride, baseline=baseline
    )
    naive = _naive_views(model, images, target, window, stride, baseline, int(layer) + 1)
    for n, (channel, views) in enumerate(naive):
        assert int(ours.channel[n]) == channel
        torch.testing.assert_close(ours.activation[n], views[0])
        torch.testing.assert_close(ours.probability[n], views[1])
        torch.testing.assert_close(ours.label[n], views[2].long())
    assert ours.rows == _naive_starts(11, window[0], stride[0])
    assert ours.cols == _naive_starts(9, window[1], stride[1])


def test_maps_with_a_chosen_channel_and_the_unoccluded_views():
    model = _small_model()
    images = _images(3)
    ours = occlusion_maps(model, images, model[3], target=2, window=3, stride=2, channel=4)
    with torch.no_grad():
        maps = model.eval()[:4](images)
        scores = model(images)
    assert ours.channel.tolist() == [4, 4, 4]
    torch.testing.assert_close(ours.unoccluded_activation, maps[:, 4].sum(dim=(1, 2)))
    torch.testing.assert_close(ours.unoccluded_probability, scores.softmax(dim=1)[:, 2])
    assert torch.equal(ours.unoccluded, scores.argmax(dim=1))


@pytest.mark.parametrize(
    ("window", "stride", "baseline"),
    [(3, 1, 0.0), (3, 2, 0.25), ((4, 2), (3, 1), -0.5), (5, 5, 0.0), ((11, 9), 1, 0.0)],
)
def test_attribution_equals_captum(window, stride, baseline):
    model = _small_model()
    images = _images(3)
    target = torch.tensor([0, 3, 2])
    ours = occlusion_attribution(
        model, images, target=target, window=window, stride=stride, baseline=baseline
    )
    w = window if isinstance(window, tuple) else (window, window)
    s = stride if isinstance(stride, tuple) else (stride, stride)
    reference = Occlusion(model.eval()).attribute(
        images, sliding_window_shapes=(2, *w), strides=(2, *s), baselines=baseline, target=target
    )
    # Captum divides in float32 (its format_result), so compare at float32 precision.
    torch.testing.assert_close(ours.float(), reference.float())
    torch.testing.assert_close(ours, _naive_attribution(model, images, target, w, s, baseline))


def test_attribution_hand_worked():
    # The output is pixel (0, 0). Window 2, stride 1 on 3x3: four windows, only the one
    # at (0, 0) hides that pixel, and hiding it lowers the output by its value, 1.
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 1, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.eye(9)[:1])
    image = torch.ones(1, 1, 3, 3)
    expected = torch.tensor([[1, 1 / 2, 0], [1 / 2, 1 / 4, 0], [0, 0, 0]])
    ours = occlusion_attribution(model, image, target=0, window=2, stride=1)
    torch.testing.assert_close(ours[0, 0], expected)


def test_batches_do_not_change_results_and_mode_is_restored():
    model = _small_model().train()
    images = _images()
    big = occlusion_attribution(model, images, target=1, window=3, stride=1)
    tiny = occlusion_attribution(model, images, target=1, window=3, stride=1, batch_size=1)
    torch.testing.assert_close(big, tiny)
    maps_big = occlusion_maps(model, images, "3", target=1, window=3, stride=1)
    maps_tiny = occlusion_maps(model, images, "3", target=1, window=3, stride=1, batch_size=1)
    torch.testing.assert_close(maps_big.activation, maps_tiny.activation)
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())


def test_window_starts_cover_the_side():
    assert window_starts(10, 4, 3) == [0, 3, 6]  # ceil(6 / 3) + 1 = 3 windows
    assert window_starts(10, 4, 4) == [0, 4, 8]  # the last covers only pixels 8 and 9
    assert window_starts(28, 7, 7) == [0, 7, 14, 21]
    assert window_starts(5, 5, 1) == [0]


def test_bad_arguments_raise_clear_errors():
    model = _small_model()
    images = _images()
    kwargs = {"window": 3, "stride": 1}
    with pytest.raises(ValueError, match="^window"):
        occlusion_attribution(model, images, target=0, window=12, stride=1)
    with pytest.raises(ValueError, match="^stride"):
        occlusion_attribution(model, images, target=0, window=3, stride=0)
    with pytest.raises(ValueError, match="^stride"):
        occlusion_attribution(model, images, target=0, window=3, stride=4)
    with pytest.raises(ValueError, match="^images"):
        occlusion_attribution(model, images[0], target=0, **kwargs)
    with pytest.raises(TypeError, match="^images"):
        occlusion_attribution(model, images.long(), target=0, **kwargs)
    with pytest.raises(ValueError, match="^target"):
        occlusion_attribution(model, images, target=4, **kwargs)
    with pytest.raises(ValueError, match="^target"):
        occlusion_maps(model, images, "1", target=torch.tensor([0, -1]), **kwargs)
    with pytest.raises(ValueError, match="^channel"):
        occlusion_maps(model, images, "1", target=0, channel=6, **kwargs)
    with pytest.raises(ValueError, match="^layer"):
        occlusion_maps(model, images, "conv9", target=0, **kwargs)
    with pytest.raises(TypeError, match="^model"):
        occlusion_attribution(None, images, target=0, **kwargs)
    with pytest.raises(ValueError, match="^batch_size"):
        occlusion_attribution(model, images, target=0, batch_size=0, **kwargs)


def test_part_correspondence_equals_a_naive_double_loop():
    model = _small_model()
    images = _images(4)
    masks = torch.zeros(4, 11, 9, dtype=torch.bool)
    for n in range(4):
        masks[n, n : n + 4, 2 : 2 + n + 2] = True
    ours = part_correspondence(model, images, masks, layer="3", baseline=0.5)
    with torch.no_grad():
        before = model.eval()[:4](images).flatten(1)
        hidden = images.clone()
        for n in range(4):
            hidden[n, :, masks[n]] = 0.5
        after = model[:4](hidden).flatten(1)
    total = 0.0
    for i in range(4):
        for j in range(4):
            if i != j:
                a, b = torch.sign(before[i] - after[i]), torch.sign(before[j] - after[j])
                total += float((a != b).sum()) / len(a)
    assert ours == pytest.approx(total / 12)


def test_part_correspondence_hand_worked():
    # Features are the pixels. Signs of eps: (+, +, 0, -), (+, -, 0, -), (+, +, +, -):
    # pairs differ in 1, 1 and 2 of 4 places -> mean (1/4 + 1/4 + 2/4) / 3 = 1/3.
    model = nn.Sequential(nn.Flatten(), nn.Identity())
    images = torch.tensor([[1.0, 1, 1, -1], [1, -1, 5, -1], [1, 1, 1, -1]]).reshape(3, 1, 1, 4)
    masks = torch.tensor([[1, 1, 0, 1], [1, 1, 0, 1], [1, 1, 1, 1]], dtype=torch.bool)[:, None]
    assert part_correspondence(model, images, masks, layer="1") == pytest.approx(1 / 3)


def test_plot_maps_draws_the_three_views():
    model = _small_model()
    images = _images()
    maps = occlusion_maps(model, images, "1", target=1, window=3, stride=2)
    fig = occlusion_panels(maps, images[:, :1], ["a", "b", "c", "d"], row=1, title="test")
    axes = fig.axes
    assert [ax.get_title()[:3] for ax in axes[:4]] == ["(a)", "(b)", "(d)", "(e)"]
    shown = axes[2].images[0].get_array()
    torch.testing.assert_close(torch.as_tensor(shown.data), maps.probability[1])
    plt.close(fig)
    with pytest.raises(TypeError, match="^maps"):
        occlusion_panels(images, images, ["a"])
    with pytest.raises(ValueError, match="^row"):
        occlusion_panels(maps, images, ["a", "b", "c", "d"], row=2)


def test_part_correspondence_bad_arguments():
    model = _small_model()
    images = _images(2)
    with pytest.raises(ValueError, match="^masks"):
        part_correspondence(model, images, torch.zeros(2, 11, 9), layer="1")
    with pytest.raises(ValueError, match="^images"):
        part_correspondence(model, images[:1], torch.zeros(1, 11, 9, dtype=torch.bool), layer="1")


def test_plot_maps_checks_everything_before_drawing():
    model = _small_model()
    images = _images()
    maps = occlusion_maps(model, images, "1", target=1, window=3, stride=2, progress=False)
    names = ["a", "b", "c", "d"]
    plt.close("all")
    with pytest.raises(ValueError, match="^pictures must hold the 2 images"):
        occlusion_panels(maps, images[:1], names)
    with pytest.raises(TypeError, match="^pictures"):
        occlusion_panels(maps, "abc", names)
    with pytest.raises(TypeError, match="^class_names must be a list of str"):
        occlusion_panels(maps, images, "abcd")
    with pytest.raises(ValueError, match="^class_names must name classes 0 to"):
        occlusion_panels(maps, images, ["a"])
    with pytest.raises(TypeError, match="^title"):
        occlusion_panels(maps, images, names, title=3)
    assert plt.get_fignums() == []


def test_unoccluded_class_is_an_int_and_target_is_checked_before_the_model_runs():
    model = _small_model()
    images = _images()
    maps = occlusion_maps(model, images, "1", target=1, window=3, stride=2, progress=False)
    assert maps.unoccluded.dtype == torch.int64  # a class index, not a float
    calls = []
    model.register_forward_pre_hook(lambda *_: calls.append(1))
    for bad, error in (("abc", TypeError), (-1, ValueError), (torch.tensor([0, -2]), ValueError)):
        with pytest.raises(error, match="^target"):
            occlusion_maps(model, images, "1", target=bad, window=3, stride=2)
        with pytest.raises(error, match="^target"):
            occlusion_attribution(model, images, target=bad, window=3, stride=2)
    assert calls == []


def test_masks_are_made_batch_by_batch_within_the_budget(monkeypatch):
    # Issue 24: all masks were built before the first batch. Now a batch's masks exist
    # only while it runs, and a batch over MEMORY_BUDGET is refused before anything runs.
    import course_utils.occlusion as occlusion

    model, images = _small_model(), _images()
    made = []
    real = occlusion._masks

    def spy(*args, **kwargs):
        masks = real(*args, **kwargs)
        made.append(len(masks))
        return masks

    monkeypatch.setattr(occlusion, "_masks", spy)
    occlusion_attribution(model, images, target=1, window=3, stride=1, batch_size=5)
    assert max(made) <= 5 and len(made) > 2
    monkeypatch.setattr(occlusion, "MEMORY_BUDGET", 100)
    with pytest.raises(ValueError, match="^batch_size 5 needs .* MEMORY_BUDGET"):
        occlusion_attribution(model, images, target=1, window=3, stride=1, batch_size=5)


def test_models_and_layers_occlusion_cannot_use_are_refused_clearly():
    model, images = _small_model(), _images()

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x), x

    with pytest.raises(ValueError, match="one tensor"):
        occlusion_attribution(Pair(), images, target=1, window=3, stride=2)
    unused = nn.ModuleDict({"net": model, "spare": nn.Conv2d(1, 1, 1).double()})
    unused.forward = model.forward  # the spare layer never runs
    with pytest.raises(ValueError, match="does not run"):
        occlusion_maps(unused, images, "spare", target=1, window=3, stride=2)
    with pytest.raises(ValueError, match="^images must have the model's dtype"):
        occlusion_attribution(model, images.float(), target=1, window=3, stride=2)
