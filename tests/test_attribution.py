"""Tests of course_utils.attribution against Captum, hand-worked examples and the papers' identities.

Independent references:
* saliency: Captum's ``Saliency(abs=False)`` (and ``abs=True``, Captum's default);
* guided_backprop / deconvnet: Captum's ``GuidedBackprop`` / ``Deconvolution``;
* grad_cam: Captum's ``LayerGradCam(relu_attributions=True)`` followed by
  ``LayerAttribution.interpolate(..., "bilinear")``; and CAM (Zhou et al. 2016) by
  hand on a global-average-pooling network, where Grad-CAM is CAM / (h * w);
* integrated_gradients: Captum's ``IntegratedGradients`` with the same ``method``
  and ``n_steps``; completeness (Sundararajan et al., Prop. 1);
* smoothgrad: Captum's ``NoiseTunnel(Saliency(abs=False))``, with Captum's global
  generator seeded as ours (same draw order), and with the noise injected by hand;
* deletion/insertion curves: a linear model, worked out by hand.

Each Captum comparison also checks that the network tells the methods apart (a
test on a network where guided backprop equals the gradient could not fail).
"""

import copy
import doctest

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import course_utils as cu
from course_utils import attribution as at

captum_attr = pytest.importorskip("captum.attr")

pytestmark = [
    pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU activations"),
    pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients"),
]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class _Net(nn.Module):
    """conv-ReLU-pool-conv-ReLU (the Grad-CAM layer) then two fully connected layers."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            nn.Conv2d(6, 8, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(8 * 5 * 5, 12), nn.ReLU(), nn.Linear(12, 4)
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def _random_net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return _Net().double().eval()


def _small_alexnet(seed: int = 0) -> nn.Module:
    """The course's small AlexNet, untrained: its resize, LRN and in-place ReLUs."""
    torch.manual_seed(seed)
    return cu.models.small_alexnet().double().eval()


def _images(n: int = 3, size: int = 10, seed: int = 1) -> torch.Tensor:
    return torch.rand(
        n, 1, size, size, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


def _reference_copy(model: nn.Module) -> nn.Module:
    """A copy without in-place ReLUs: Captum's hooks read a layer's output after it ran."""
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
    return model


NETS = {"random": (_random_net, 10), "small_alexnet": (_small_alexnet, 28)}
TARGET = torch.tensor([0, 3, 1])


@pytest.mark.parametrize("net", NETS)
def test_saliency_equals_captum(net):
    build, size = NETS[net]
    model, images = build(), _images(size=size)
    ours = at.saliency(model, images, target=TARGET)
    theirs = captum_attr.Saliency(_reference_copy(model)).attribute(
        images, target=TARGET, abs=False
    )
    torch.testing.assert_close(ours, theirs)
    # Captum's default, abs=True, is the magnitude: equal to ours with abs=True only.
    default = captum_attr.Saliency(_reference_copy(model)).attribute(images, target=TARGET)
    torch.testing.assert_close(at.saliency(model, images, target=TARGET, abs=True), default)
    assert (ours < 0).any() and not torch.allclose(ours, default)


@pytest.mark.parametrize("net", NETS)
@pytest.mark.parametrize(
    ("ours", "reference"),
    [(at.guided_backprop, "GuidedBackprop"), (at.deconvnet, "Deconvolution")],
)
def test_relu_rules_equal_captum(net, ours, reference):
    build, size = NETS[net]
    model, images = build(), _images(size=size)
    mine = ours(model, images, target=TARGET)
    theirs = getattr(captum_attr, reference)(_reference_copy(model)).attribute(
        images, target=TARGET
    )
    torch.testing.assert_close(mine, theirs)
    gradient = at.saliency(model, images, target=TARGET)
    other = at.deconvnet if ours is at.guided_backprop else at.guided_backprop
    assert not torch.allclose(mine, gradient, atol=1e-3 * float(gradient.abs().max()))
    assert not torch.allclose(mine, other(model, images, target=TARGET), atol=1e-6)


def _captum_grad_cam(model, images, layer, target, relu=True):
    model = _reference_copy(model)
    cam = captum_attr.LayerGradCam(model, model.get_submodule(layer)).attribute(
        images, target=target, relu_attributions=relu
    )
    return captum_attr.LayerAttribution.interpolate(cam, images.shape[-2:], "bilinear")


@pytest.mark.parametrize(
    ("net", "layer"),
    [
        ("random", "features.3"),
        ("random", "features.0"),
        ("small_alexnet", "features.8"),
        ("small_alexnet", "features.5"),
    ],
)
@pytest.mark.parametrize("relu", [True, False])
def test_grad_cam_equals_captum(net, layer, relu):
    build, size = NETS[net]
    model, images = build(), _images(size=size)
    ours = at.grad_cam(model, images, layer, target=TARGET, relu=relu)
    assert ours.shape == (3, 1, size, size)
    torch.testing.assert_close(ours, _captum_grad_cam(model, images, layer, TARGET, relu))
    # the layer is a module or its name, alike
    module = model.get_submodule(layer)
    torch.testing.assert_close(at.grad_cam(model, images, module, target=TARGET, relu=relu), ours)
    if not relu:
        assert (ours < 0).any()  # the ReLU matters on this network


def test_grad_cam_is_cam_on_a_global_average_pooling_network():
    """Selvaraju et al. Sec. 3.1: with GAP and one linear layer, Grad-CAM = CAM / (h * w)."""
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 5, kernel_size=3, padding=1)
    linear = nn.Linear(5, 4)
    model = nn.Sequential(conv, nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), linear)
    model = model.double().eval()
    images = _images(size=6)
    with torch.no_grad():
        maps = F.relu(conv(images))  # (N, K, 6, 6)
        weights = linear.weight[TARGET]  # (N, K): CAM's class weights (Zhou et al., Eq. 2)
        cam = torch.einsum("nk,nkij->nij", weights, maps)[:, None]
    torch.testing.assert_close(
        at.grad_cam(model, images, model[1], target=TARGET, relu=False), cam / 36
    )


@pytest.mark.parametrize("method", at.IG_METHODS)
@pytest.mark.parametrize("net", NETS)
def test_integrated_gradients_equal_captum(net, method):
    build, size = NETS[net]
    model, images = build(), _images(size=size)
    baseline = torch.full_like(images, 0.25)
    ours = at.integrated_gradients(
        model, images, target=TARGET, baseline=baseline, steps=16, method=method, batch_size=7
    )
    theirs = captum_attr.IntegratedGradients(_reference_copy(model)).attribute(
        images, baselines=baseline, target=TARGET, n_steps=16, method=method
    )
    torch.testing.assert_close(ours, theirs)


def test_integrated_gradients_rules_differ_and_complete():
    model, images = _random_net(), _images()
    runs = {
        method: at.integrated_gradients(
            model, images, target=TARGET, baseline=0.0, steps=4, method=method
        )
        for method in at.IG_METHODS
    }
    assert not torch.allclose(*runs.values(), atol=1e-6)  # the rule is not ignored
    fine = at.integrated_gradients(model, images, target=TARGET, baseline=0.0, steps=400)
    with torch.no_grad():
        gap = model(images) - model(torch.zeros_like(images))
    # Completeness (Sundararajan et al., Prop. 1): the map sums to F(x) - F(baseline).
    torch.testing.assert_close(
        fine.flatten(1).sum(1), gap.gather(1, TARGET[:, None])[:, 0], atol=1e-4, rtol=1e-4
    )


def test_integrated_gradients_do_not_depend_on_the_batch_size():
    model, images = _small_alexnet(), _images(size=28)
    runs = [
        at.integrated_gradients(model, images, target=2, baseline=0.0, steps=8, batch_size=b)
        for b in (1, 5, 1000)
    ]
    for run in runs[1:]:
        torch.testing.assert_close(run, runs[0])


@pytest.mark.parametrize("net", NETS)
def test_smoothgrad_equals_captum_noise_tunnel_under_the_same_seed(net):
    build, size = NETS[net]
    model, images = build(), _images(size=size)
    images[:, 0, 0, 0], images[:, 0, 0, 1] = 0.0, 1.0  # every image's range is [0, 1]
    ours = at.smoothgrad(
        model,
        images,
        target=TARGET,
        noise=0.2,
        samples=6,
        generator=torch.Generator().manual_seed(5),
        batch_size=4,
    )
    torch.manual_seed(5)  # Captum draws from the global generator
    theirs = captum_attr.NoiseTunnel(captum_attr.Saliency(_reference_copy(model))).attribute(
        images, nt_type="smoothgrad", nt_samples=6, stdevs=0.2, target=TARGET, abs=False
    )
    torch.testing.assert_close(ours, theirs)
    assert not torch.allclose(ours, at.saliency(model, images, target=TARGET), atol=1e-6)


def test_smoothgrad_is_the_mean_gradient_over_the_injected_noise():
    """By hand: the same draws, added to each image scaled by its own range, then averaged."""
    model, images = (
        _random_net(),
        _images() * torch.tensor([1.0, 3.0, 0.5]).view(3, 1, 1, 1).double(),
    )
    draws = torch.randn((3 * 4, 1, 10, 10), generator=torch.Generator().manual_seed(9))
    sigma = 0.1 * (images.amax(dim=(1, 2, 3)) - images.amin(dim=(1, 2, 3)))
    expected = torch.stack(
        [
            torch.stack(
                [
                    at.saliency(
                        model,
                        images[n : n + 1] + sigma[n] * draws[4 * n + k].double(),
                        target=int(TARGET[n]),
                    )[0]
                    for k in range(4)
                ]
            ).mean(0)
            for n in range(3)
        ]
    )
    ours = at.smoothgrad(
        model,
        images,
        target=TARGET,
        noise=0.1,
        samples=4,
        generator=torch.Generator().manual_seed(9),
    )
    torch.testing.assert_close(ours, expected)


def test_smoothgrad_leaves_the_global_generator_alone():
    model, images = _random_net(), _images()
    torch.manual_seed(3)
    before = torch.rand(3)
    torch.manual_seed(3)
    at.smoothgrad(model, images, target=0, samples=3)
    torch.testing.assert_close(torch.rand(3), before)
    first = at.smoothgrad(model, images, target=0, samples=3)
    torch.testing.assert_close(at.smoothgrad(model, images, target=0, samples=3), first)


# ---------------------------------------------------------------------------
# Deletion and insertion, worked by hand on a linear model.


def _linear(weights, bias=0.0) -> nn.Module:
    """score = weights . pixels + bias, one class (logits) or two (the second all zero)."""
    weights = torch.tensor(weights, dtype=torch.float64)
    layer = nn.Linear(len(weights), 2).double()
    with torch.no_grad():
        layer.weight.copy_(torch.stack([weights, torch.zeros_like(weights)]))
        layer.bias.copy_(torch.tensor([bias, 0.0]))
    return nn.Sequential(nn.Flatten(), layer).eval()


def test_deletion_and_insertion_by_hand():
    # pixels (row-major) 2, 1, 0.5, 1 with weights 1, -1, 4, 2: contributions 2, -1, 2, 2
    model = _linear([1.0, -1.0, 4.0, 2.0], bias=0.5)
    image = torch.tensor([[[[2.0, 1.0], [0.5, 1.0]]]], dtype=torch.float64)
    contribution = image * torch.tensor([[1.0, -1.0], [4.0, 2.0]], dtype=torch.float64)
    # order: the three 2s by position (0, 2, 3), then the -1 (pixel 1); baseline 0 removes them
    deletion = at.deletion_curve(
        model, image, contribution, target=0, baseline=0.0, steps=4, score="logit"
    )
    torch.testing.assert_close(
        deletion.fraction, torch.tensor([0, 0.25, 0.5, 0.75, 1], dtype=torch.float64)
    )
    logits = [5.5, 3.5, 1.5, -0.5, 0.5]
    assert deletion.score.tolist() == [logits]
    area = 0.25 * (logits[0] / 2 + sum(logits[1:4]) + logits[4] / 2)  # trapezoids
    assert float(deletion.area) == pytest.approx(area)
    insertion = at.insertion_curve(
        model, image, contribution, target=0, baseline=0.0, steps=4, score="logit"
    )
    assert insertion.score.tolist() == [[0.5, 2.5, 4.5, 6.5, 5.5]]
    # probability of class 0 against class 1's logit 0: the logistic function of the logit
    probability = at.deletion_curve(model, image, contribution, target=0, baseline=0.0, steps=4)
    expected = [1 / (1 + np.exp(-v)) for v in logits]
    assert probability.score[0].tolist() == pytest.approx(expected)


def test_deletion_with_a_baseline_image_and_uneven_steps():
    model = _linear([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    image = torch.arange(1.0, 7.0, dtype=torch.float64).view(1, 1, 2, 3)  # 1..6
    baseline = torch.full_like(image, 10.0)
    ranking = -image  # least bright first: 1, 2, ..., 6
    curve = at.deletion_curve(
        model, image, ranking, target=0, baseline=baseline, steps=4, score="logit"
    )
    # round(k * 6 / 4) = 0, 2 (round(1.5) = 2, half to even), 3, 4 (round(4.5)), 6 pixels
    assert curve.fraction.tolist() == pytest.approx([0, 2 / 6, 3 / 6, 4 / 6, 1])
    # removing pixel v adds 10 - v: 21, 21 + 9 + 8, + 7, + 6, + 5 + 4
    assert curve.score.tolist() == [[21.0, 38.0, 45.0, 51.0, 60.0]]


def test_ties_go_to_the_earlier_pixel_and_channels_are_summed():
    model = _linear([1.0, 2.0, 3.0, 4.0] * 2)
    image = torch.ones(1, 2, 2, 2, dtype=torch.float64)
    flat = torch.zeros(1, 2, 2, 2, dtype=torch.float64)  # all tied: row-major order
    curve = at.deletion_curve(model, image, flat, target=0, baseline=0.0, steps=4, score="logit")
    assert curve.score.tolist() == [[20.0, 18.0, 14.0, 8.0, 0.0]]  # both channels of a pixel
    last_first = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64).view(1, 1, 2, 2)
    summed = torch.cat([last_first, -0.5 * last_first], dim=1)  # sums to 0.5 * last_first
    curve = at.deletion_curve(model, image, summed, target=0, baseline=0.0, steps=4, score="logit")
    assert curve.score.tolist() == [[20.0, 12.0, 6.0, 2.0, 0.0]]


def test_curves_do_not_depend_on_the_batch_size():
    model, images = _small_alexnet(), _images(size=28)
    ranking = at.saliency(model, images, target=None)
    runs = [
        at.insertion_curve(model, images, ranking, target=None, baseline=0.0, steps=7, batch_size=b)
        for b in (1, 6, 500)
    ]
    for run in runs[1:]:
        torch.testing.assert_close(run.score, runs[0].score)


def _state(model):
    return (
        [m.training for m in model.modules()],
        [getattr(m, "inplace", None) for m in model.modules()],
        [(p.requires_grad, None if p.grad is None else p.grad.clone()) for p in model.parameters()],
        [(dict(m._forward_hooks), dict(m._backward_hooks)) for m in model.modules()],
        {k: v.clone() for k, v in model.state_dict().items()},
    )


CALLS = {
    "saliency": lambda m, x: at.saliency(m, x, target=1),
    "guided": lambda m, x: at.guided_backprop(m, x, target=1),
    "deconvnet": lambda m, x: at.deconvnet(m, x, target=1),
    "grad_cam": lambda m, x: at.grad_cam(m, x, "features.3", target=1),
    "ig": lambda m, x: at.integrated_gradients(m, x, target=1, baseline=0.0, steps=3),
    "smoothgrad": lambda m, x: at.smoothgrad(m, x, target=1, samples=2),
    "deletion": lambda m, x: at.deletion_curve(m, x, x, target=1, baseline=0.0, steps=3),
    "insertion": lambda m, x: at.insertion_curve(m, x, x, target=1, baseline=0.0, steps=3),
}


@pytest.mark.parametrize("call", CALLS)
def test_the_model_is_left_as_found(call):
    model = _random_net()
    model.train()
    model.features[0].eval()  # a mixed state that model.train(was_training) would lose
    model.features[3].weight.requires_grad_(False)
    model.classifier[1].weight.grad = torch.ones_like(model.classifier[1].weight)
    model.features[1].register_forward_hook(lambda *args: None)
    before = _state(model)
    CALLS[call](model, _images())
    after = _state(model)
    assert before[0] == after[0] and before[1] == after[1]
    for (flag, grad), (flag_after, grad_after) in zip(before[2], after[2], strict=True):
        assert flag == flag_after
        assert (grad is None) == (grad_after is None)
        if grad is not None:
            torch.testing.assert_close(grad, grad_after)
    assert [tuple(h) for h, _ in before[3]] == [tuple(h) for h, _ in after[3]]
    assert [tuple(h) for _, h in before[3]] == [tuple(h) for _, h in after[3]]
    for key, value in before[4].items():
        torch.testing.assert_close(value, after[4][key])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("call", CALLS)
def test_cuda_model_gives_results_on_its_device(call):
    model, images = _random_net(), _images()
    on_cpu = CALLS[call](model, images)
    on_gpu = CALLS[call](model.cuda(), images)  # CPU images go to the model's device
    first = on_gpu.score if isinstance(on_gpu, at.Curve) else on_gpu
    assert first.device.type == "cuda"
    expected = on_cpu.score if isinstance(on_cpu, at.Curve) else on_cpu
    torch.testing.assert_close(first.cpu(), expected)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m, x: at.saliency(m, x[0], target=0), ValueError, "images must be a"),
        (lambda m, x: at.saliency(None, x, target=0), TypeError, "model must be"),
        (
            lambda m, x: at.saliency(m, x, target=4),
            ValueError,
            r"target must be a class in \[0, 4\)",
        ),
        (lambda m, x: at.saliency(m, x, target=torch.tensor([0, 1])), ValueError, "target must"),
        (lambda m, x: at.saliency(m, x, target=0, abs="no"), TypeError, "abs must be"),
        (lambda m, x: at.grad_cam(m, x, "features.9", target=0), ValueError, "layer 'features.9'"),
        (lambda m, x: at.grad_cam(m, x, "classifier.1", target=0), ValueError, r"\(N, K, h, w\)"),
        (
            lambda m, x: at.integrated_gradients(m, x, target=0, baseline=None),
            TypeError,
            "baseline must be",
        ),
        (
            lambda m, x: at.integrated_gradients(m, x, target=0, baseline=torch.zeros(2, 10, 10)),
            ValueError,
            "baseline must broadcast",
        ),
        (
            lambda m, x: at.integrated_gradients(m, x, target=0, baseline=0.0, method="left"),
            ValueError,
            "method must be one of",
        ),
        (
            lambda m, x: at.integrated_gradients(m, x, target=0, baseline=0.0, steps=0),
            ValueError,
            "steps must be",
        ),
        (lambda m, x: at.smoothgrad(m, x, target=0, noise=0), ValueError, "noise must be"),
        (
            lambda m, x: at.smoothgrad(m, x, target=0, generator=0),
            TypeError,
            "generator must be a torch.Generator",
        ),
        (
            lambda m, x: at.deletion_curve(m, x, x[:, :, :5], target=0, baseline=0.0),
            ValueError,
            "attribution must be an",
        ),
        (
            lambda m, x: at.insertion_curve(m, x, x, target=0, baseline=0.0, score="p"),
            ValueError,
            "score must be one of",
        ),
    ],
)
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call(_random_net(), _images())


def test_docstring_examples():
    failures, tried = doctest.testmod(at, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 5 and failures == 0


@pytest.mark.parametrize("rule", ["deconvnet", "guided", "gradient"])
def test_from_a_unit_the_rules_equal_chapter_8s_deconvnet(rule):
    """Started from one unit instead of a class score, the walk is DeconvNet.project's.

    A network cut after its second ReLU and flattened has the units as its "classes";
    DeconvNet starts from the activation itself, so its projection is the activation
    times ours (with lrn="gradient"; these networks have no normalisation anyway).
    """
    model = _random_net()
    images = _images()
    cut = nn.Sequential(*model.features, nn.Flatten()).eval()
    channel, row, column = 5, 2, 3
    with torch.no_grad():
        maps = model.features(images)
    height, width = maps.shape[-2:]
    unit = channel * height * width + row * width + column
    function = {"deconvnet": at.deconvnet, "guided": at.guided_backprop, "gradient": at.saliency}
    ours = function[rule](cut, images, target=unit)
    theirs = cu.deconvnet.DeconvNet(model, lrn="gradient").project(
        images, "features.4", channel=channel, position=(row, column), rule=rule
    )
    activation = maps[:, channel, row, column].view(-1, 1, 1, 1)
    assert (activation > 0).any()
    torch.testing.assert_close(activation * ours, theirs)
