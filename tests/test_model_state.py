"""Every model-taking public helper returns the caller's model exactly as it was given.

The model has submodules in mixed modes (a frozen normalisation and dropout in eval
mode inside a model in train mode), frozen parameters, existing ``.grad`` tensors and
forward, forward-pre and backward hooks of the caller. After each helper, all of it
must be as it was: every submodule's ``training`` flag, every parameter's value,
``requires_grad`` and ``.grad`` (the same tensor object, the same values), every hook,
every ``inplace`` flag. ``fit`` and ``renormalize_filters_`` change weights by design:
for them everything but the weight values is checked.
"""

from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.data import ImageSet


def _model() -> nn.Module:
    torch.manual_seed(0)
    model = cu.models.small_alexnet()
    model.train()
    model.features[2].eval()  # a normalisation the caller froze
    model.classifier[3].eval()  # a dropout the caller switched off
    model.features[0].weight.requires_grad_(False)  # a frozen layer
    model.classifier[6].bias.grad = torch.full_like(model.classifier[6].bias, 0.5)
    model.features[4].weight.grad = torch.ones_like(model.features[4].weight)
    model.features[3].register_forward_hook(lambda *_: None)
    model.classifier.register_forward_pre_hook(lambda *_: None)
    model.classifier.register_full_backward_hook(lambda *_: None)
    return model


def _snapshot(model: nn.Module) -> dict:
    return {
        "modes": [m.training for m in model.modules()],
        "inplace": [getattr(m, "inplace", None) for m in model.modules()],
        "values": [p.detach().clone() for p in model.parameters()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grad_ids": [id(p.grad) if p.grad is not None else None for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "hooks": [
            {
                name: list(getattr(m, name, {}).items())
                for name in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks")
            }
            for m in model.modules()
        ],
    }


def _assert_same(before: dict, after: dict, *, weights: bool = True) -> None:
    assert after["modes"] == before["modes"], "a submodule's mode changed"
    assert after["inplace"] == before["inplace"], "an inplace flag changed"
    assert after["requires_grad"] == before["requires_grad"], "requires_grad changed"
    assert after["grad_ids"] == before["grad_ids"], "a .grad tensor was replaced or added"
    for a, b in zip(before["grads"], after["grads"], strict=True):
        assert (a is None and b is None) or torch.equal(a, b), "a .grad tensor's values changed"
    assert after["hooks"] == before["hooks"], "hooks were added or removed"
    if weights:
        for a, b in zip(before["values"], after["values"], strict=True):
            assert torch.equal(a, b), "a parameter changed"


@pytest.fixture(scope="module")
def data() -> ImageSet:
    test = cu.data.load_fashion_mnist("test", verbose=False)
    return dataclasses.replace(test, images=test.images[:24], labels=test.labels[:24])


def _images(data):
    return data.tensors()[0][:3]


def _zero(model, data):
    with cu.ablation.zero_feature_maps(model, "features.12", [1, 2]):
        model(_images(data))


HELPERS = {
    "DeconvNet.project": lambda m, d: cu.deconvnet.DeconvNet(m).project(
        _images(d), "features.8", channel=1
    ),
    "DeconvNet.project_top": lambda m, d: cu.deconvnet.DeconvNet(m).project_top(
        _images(d), "features.4", cu.deconvnet.top_activations(m, _images(d), "features.4", k=1)
    ),
    "top_activations": lambda m, d: cu.deconvnet.top_activations(m, d, "features.4", k=2),
    "occlusion_maps": lambda m, d: cu.occlusion.occlusion_maps(
        m, _images(d), "features.13", target=1, window=14, stride=14
    ),
    "occlusion_attribution": lambda m, d: cu.occlusion.occlusion_attribution(
        m, _images(d), target=1, window=14, stride=14
    ),
    "part_correspondence": lambda m, d: cu.occlusion.part_correspondence(
        m, _images(d), torch.zeros(3, 28, 28, dtype=torch.bool), layer="features.4"
    ),
    "receptive_field": lambda m, d: cu.receptive_field.receptive_field(m, 28),
    "empirical_receptive_field": lambda m, d: cu.receptive_field.empirical_receptive_field(
        m.features, 64, "4"
    ),
    "effective_receptive_field": lambda m, d: cu.receptive_field.effective_receptive_field(
        m, _images(d), "features.4"
    ),
    "zero_feature_maps": _zero,
    "replace_layers": lambda m, d: cu.ablation.replace_layers(m, {"features.0": m.features[0]}),
    "remove_layers": lambda m, d: cu.ablation.remove_layers(m, ["features.10"]),
    "feature_map_drops": lambda m, d: cu.ablation.feature_map_drops(
        m, d, "features.12", channels=[0, 1]
    ),
    "predict": lambda m, d: cu.train.predict(m, d),
    "evaluate": lambda m, d: cu.train.evaluate(m, d),
    "layer_table": lambda m, d: cu.summary.layer_table(m, (1, 28, 28)),
    "weight_layers": lambda m, d: cu.summary.weight_layers(m, (1, 28, 28)),
    "architecture_diagram": lambda m, d: plt.close(
        cu.plotting.architecture_diagram(m, (1, 28, 28)).figure
    ),
    "first_layer_aliasing": lambda m, d: cu.aliasing.first_layer_aliasing(m, _images(d)),
    # the attribution chapter
    "saliency": lambda m, d: cu.attribution.saliency(m, _images(d), target=1),
    "guided_backprop": lambda m, d: cu.attribution.guided_backprop(m, _images(d), target=1),
    "deconvnet": lambda m, d: cu.attribution.deconvnet(m, _images(d), target=1),
    "grad_cam": lambda m, d: cu.attribution.grad_cam(m, _images(d), "features.12", target=1),
    "integrated_gradients": lambda m, d: cu.attribution.integrated_gradients(
        m, _images(d), target=1, baseline=0.0, steps=4
    ),
    "smoothgrad": lambda m, d: cu.attribution.smoothgrad(
        m, _images(d), target=1, samples=3, generator=torch.Generator().manual_seed(0)
    ),
    "deletion_curve": lambda m, d: cu.attribution.deletion_curve(
        m, _images(d), torch.rand(3, 1, 28, 28), target=1, baseline=0.0, steps=4
    ),
    "insertion_curve": lambda m, d: cu.attribution.insertion_curve(
        m, _images(d), torch.rand(3, 1, 28, 28), target=1, baseline=0.0, steps=4
    ),
    # Zeiler & Fergus Fig. 4 and Fig. 5
    "strongest_units": lambda m, d: cu.evolution.strongest_units(m, _images(d), "features.4"),
    "map_maxima": lambda m, d: cu.evolution.map_maxima(m, _images(d), ["features.4"]),
    "response_correlation": lambda m, d: cu.evolution.response_correlation(
        m, m, _images(d), "features.4"
    ),
    "feature_vectors": lambda m, d: cu.invariance.feature_vectors(m, _images(d), ["features.4"]),
    "invariance": lambda m, d: cu.invariance.invariance(
        m, _images(d), [0, 1, 2], "translation", [0.0, 1.0], ["features.4"]
    ),
}
CHANGE_WEIGHTS = {
    "fit": lambda m, d: cu.train.fit(m, d, epochs=1, batch_size=12),
    "renormalize_filters_": lambda m, d: cu.train.renormalize_filters_(m, 0.01),
}


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helper_returns_the_model_exactly_as_given(name, data):
    model = _model()
    before = _snapshot(model)
    HELPERS[name](model, data)
    _assert_same(before, _snapshot(model))


@pytest.mark.parametrize("name", sorted(CHANGE_WEIGHTS))
def test_helpers_that_train_change_only_the_weights(name, data):
    model = _model()
    before = _snapshot(model)
    CHANGE_WEIGHTS[name](model, data)
    after = _snapshot(model)
    _assert_same(before, after, weights=False)
    assert any(
        not torch.equal(a, b) for a, b in zip(before["values"], after["values"], strict=True)
    )
    assert torch.equal(model.features[0].weight, before["values"][0]) or name != "fit"


def test_fit_leaves_no_process_wide_deterministic_mode(data):
    before = torch.are_deterministic_algorithms_enabled()
    cu.train.fit(_model(), data, epochs=1, batch_size=12)
    cu.seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled() == before


def test_every_model_taking_public_helper_is_driven():
    """A new public function with a ``model`` argument must be added above."""
    import inspect

    driven = set(HELPERS) | set(CHANGE_WEIGHTS)
    found = set()
    for module in (
        cu.deconvnet,
        cu.occlusion,
        cu.receptive_field,
        cu.ablation,
        cu.train,
        cu.summary,
        cu.aliasing,
        cu.plotting,
        cu.attribution,
        cu.evolution,
        cu.invariance,
    ):
        for name in module.__all__:
            thing = getattr(module, name)
            if inspect.isclass(thing):
                for method, function in vars(thing).items():
                    if not method.startswith("_") and callable(function):
                        found.add(f"{name}.{method}")
            elif callable(thing) and "model" in inspect.signature(thing).parameters:
                found.add(name)
    assert found - {"DeconvNet.project", "DeconvNet.project_top"} <= driven | {"OcclusionMaps"}
    assert {"DeconvNet.project", "DeconvNet.project_top"} <= driven


# ---------------------------------------------------------------------------
# Any device: the helpers work where the model is, and create nothing on the CPU
# by accident.

FACTORIES = {
    torch.arange,
    torch.zeros,
    torch.ones,
    torch.full,
    torch.empty,
    torch.tensor,
    torch.as_tensor,
    torch.eye,
    torch.linspace,
    torch.randperm,
    torch.rand,
    torch.randn,
}


class _FactoriesWithoutDevice(torch.overrides.TorchFunctionMode):
    """Records factory calls made from course_utils without a ``device=`` argument."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in FACTORIES and "device" not in kwargs:
            import inspect

            caller = inspect.stack()[1]
            if "course_utils" in caller.filename and "_validate" not in caller.filename:
                self.calls.append(f"{caller.filename.split('/')[-1]}:{caller.lineno}")
        return func(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(HELPERS))
def test_no_tensor_is_created_without_a_device(name, data):
    # On the CPU a forgotten device= goes unnoticed; on a GPU it is a crash or a copy.
    model = _model()
    with _FactoriesWithoutDevice() as mode:
        HELPERS[name](model, data)
    assert mode.calls == [], f"{name}: factory calls without device= at {mode.calls}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", sorted(HELPERS))
def test_helpers_run_on_a_gpu_and_answer_there(name, data):
    model = _model().cuda()
    before = _snapshot(model)
    result = HELPERS[name](model, data)
    _assert_same(before, _snapshot(model))
    if isinstance(result, torch.Tensor) and name != "empirical_receptive_field":
        assert result.is_cuda, f"{name} answered on {result.device}"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_runs_on_a_gpu(data):
    model = _model().cuda()
    cu.train.fit(model, data, epochs=1, batch_size=12)
    assert all(p.is_cuda for p in model.parameters())
