"""Tests of course_utils.deconvnet against autograd, Captum and naive loops written here.

Independent references:
* rule="gradient": the unit's gradient with respect to the input (autograd), times its
  activation. Networks grow one layer at a time, so each step (transposed convolution
  with stride, padding, dilation and groups; unpooling through overlapping, padded,
  ceil_mode pooling; ReLU; normalisation) is checked on its own.
* rule="deconvnet" / "gradient" / "guided": Captum's NeuronDeconvolution, NeuronGradient
  and NeuronGuidedBackprop (signal 1 at the unit), times the unit's activation, on
  networks without normalisation (Captum differentiates normalisation exactly).
* lrn="identity": autograd through a normalisation whose gradient is replaced by the
  identity (the value of LRN, the derivative of x), written with ``detach``.
* top_activations: a loop over channels and images with torch.sort.
"""

import copy

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

import course_utils as cu
from course_utils.deconvnet import DeconvNet, rectify, top_activations
from course_utils.normalization import LocalResponseNorm
from course_utils.receptive_field import receptive_field

captum_attr = pytest.importorskip("captum.attr")

pytestmark = [
    pytest.mark.filterwarnings("ignore:Setting backward hooks on ReLU activations"),
    pytest.mark.filterwarnings("ignore:Input Tensor 0 did not already require gradients"),
]

CAPTUM = {
    "deconvnet": captum_attr.NeuronDeconvolution,
    "gradient": captum_attr.NeuronGradient,
    "guided": captum_attr.NeuronGuidedBackprop,
}


@pytest.fixture(autouse=True)
def one_thread():
    """One thread: these small problems run faster so on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_net(seed: int = 0, lrn: bool = False) -> nn.Sequential:
    """Every feature the deconvnet must handle, in a network small enough for float64."""
    torch.manual_seed(seed)
    layers = [
        nn.Conv2d(3, 6, kernel_size=5, stride=2, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1, ceil_mode=True),  # overlapping
        nn.Conv2d(6, 8, kernel_size=3, padding=2, dilation=2, groups=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),  # overlapping, floor
        nn.Conv2d(8, 5, kernel_size=3, stride=1, padding=1),
        nn.ReLU(),
    ]
    if lrn:
        layers.insert(2, LocalResponseNorm(size=3, alpha=0.5, beta=0.75, k=1.0))
    return nn.Sequential(*layers).double().eval()


def _images(n: int = 3, size=(31, 29), seed: int = 1, channels: int = 3) -> torch.Tensor:
    return torch.randn(
        n, channels, *size, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
    )


def _strongest(output: torch.Tensor, channel: int):
    """Each image's strongest position in ``channel``, as (rows, columns), and the values."""
    flat = output[:, channel].flatten(1)
    where = flat.argmax(dim=1)
    return where // output.shape[-1], where % output.shape[-1], flat.max(dim=1).values


def _autograd_projection(net: nn.Module, images, index: int, channel: int, rows, cols):
    """Gradient of each image's unit (``net[: index + 1]`` output) w.r.t. its input, times its value."""
    x = images.clone().requires_grad_()
    output = net[: index + 1](x)
    units = output[torch.arange(len(x)), channel, rows, cols]
    (gradient,) = torch.autograd.grad(units.sum(), x)
    return gradient * units.detach().clamp(min=0)[:, None, None, None]  # rectified


@pytest.mark.parametrize("index", range(8))
def test_each_step_equals_autograd(index):
    # The network up to layer `index`, with rule="gradient", is the gradient: adding the
    # layers one at a time checks transposed convolution, ReLU and unpooling one by one.
    net, images = _random_net(), _images()
    output = net[: index + 1](images)
    rows, cols, _ = _strongest(output, channel=2)
    expected = _autograd_projection(net, images, index, 2, rows, cols)
    ours = DeconvNet(net).project(images, str(index), channel=2, rule="gradient")
    assert ours.abs().max() > 0
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


def test_given_position_and_the_layer_as_a_module():
    net, images = _random_net(), _images()
    channel = int(net[:4](images)[:, :, 2, 1].amin(dim=0).argmax())  # positive there in all
    expected = _autograd_projection(net, images, 3, channel, torch.tensor(2), torch.tensor(1))
    assert expected.abs().max() > 0
    ours = DeconvNet(net).project(images, net[3], channel=channel, position=(2, 1), rule="gradient")
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


def test_nested_sequential_blocks():
    flat = _random_net()
    nested = nn.Sequential(flat[:3], nn.Sequential(*flat[3:6]), flat[6:])  # same modules
    images = _images()
    output = flat[:5](images)
    rows, cols, _ = _strongest(output, channel=4)
    expected = _autograd_projection(flat, images, 4, 4, rows, cols)
    ours = DeconvNet(nested).project(
        images, "1.1", channel=4, rule="gradient"
    )  # the ReLU after conv2
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


class _LRNWithIdentityGradient(nn.Module):
    """LRN's value on the way up, the identity on the way down (the paper's deconvnet)."""

    def __init__(self, lrn):
        super().__init__()
        self.lrn = lrn

    def forward(self, x):
        return x + (self.lrn(x) - x).detach()


def test_normalisation_true_gradient_or_passed_through():
    net, images = _random_net(lrn=True), _images()
    output = net(images)
    rows, cols, _ = _strongest(output, channel=1)
    exact = _autograd_projection(net, images, len(net) - 1, 1, rows, cols)
    ours = DeconvNet(net, lrn="gradient").project(
        images, str(len(net) - 1), channel=1, rule="gradient"
    )
    torch.testing.assert_close(ours, exact, rtol=1e-10, atol=1e-12)

    straight = copy.deepcopy(net)
    straight[2] = _LRNWithIdentityGradient(net[2])
    passed = _autograd_projection(straight, images, len(net) - 1, 1, rows, cols)
    ours = DeconvNet(net).project(images, str(len(net) - 1), channel=1, rule="gradient")
    torch.testing.assert_close(ours, passed, rtol=1e-10, atol=1e-12)
    assert not torch.allclose(exact, passed, rtol=1e-3)  # the choice makes a difference


def test_rectify_by_hand():
    signal = torch.tensor([[[[2.0, -3.0], [-1.0, 4.0]]]])
    forward_input = torch.tensor([[[[1.0, 5.0], [-2.0, -0.5]]]])
    expected = {
        "deconvnet": [[2.0, 0.0], [0.0, 4.0]],  # relu of the signal, whatever went up
        "gradient": [[2.0, -3.0], [0.0, 0.0]],  # where the input was positive
        "guided": [[2.0, 0.0], [0.0, 0.0]],  # both
    }
    for rule, values in expected.items():
        torch.testing.assert_close(rectify(signal, forward_input, rule), torch.tensor([[values]]))


def _captum_projection(model, layer, images, rule, channel, rows, cols, values):
    method = CAPTUM[rule](model, model.get_submodule(layer))
    per_image = [
        method.attribute(images[i : i + 1], (channel, int(rows[i]), int(cols[i])))
        for i in range(len(images))
    ]
    return torch.cat(per_image) * values[:, None, None, None]


@pytest.mark.parametrize("rule", ["deconvnet", "gradient", "guided"])
@pytest.mark.parametrize("layer", ["0", "3", "6", "7"])
def test_equals_captum_on_a_random_network(rule, layer):
    net, images = _random_net(seed=3), _images(seed=4)
    output = net[: int(layer) + 1](images)
    channel = int(output.amax(dim=(0, 2, 3)).argmax())  # a channel with positive activations
    rows, cols, values = _strongest(output, channel)
    assert (values > 0).all()
    expected = _captum_projection(net, layer, images, rule, channel, rows, cols, values)
    ours = DeconvNet(net).project(images, layer, channel=channel, rule=rule)
    assert ours.abs().max() > 0
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)


@pytest.fixture(scope="module")
def torchvision_alexnet():
    torch.manual_seed(0)
    return torchvision.models.alexnet(weights=None).eval()  # in-place ReLUs, no normalisation


@pytest.mark.parametrize("rule", ["deconvnet", "gradient", "guided"])
def test_equals_captum_on_torchvision_alexnet(torchvision_alexnet, rule):
    model, images = (
        torchvision_alexnet,
        torch.rand(2, 3, 99, 99, generator=torch.Generator().manual_seed(0)),
    )
    deconvnet = DeconvNet(model)
    for layer in ("features.0", "features.3", "features.6", "features.8", "features.10"):
        output = model.features[: int(layer.split(".")[1]) + 1](images)
        channel = int(output.amax(dim=(0, 2, 3)).argmax())
        rows, cols, values = _strongest(output, channel)
        expected = _captum_projection(model, layer, images, rule, channel, rows, cols, values)
        ours = deconvnet.project(images, layer, channel=channel, rule=rule)
        scale = expected.abs().max()
        torch.testing.assert_close(ours / scale, expected / scale, rtol=0, atol=1e-5)


def test_grouped_alexnet_and_zfnet_equal_autograd():
    # The paper's AlexNet (groups=2, no padding in conv1) and ZFNet (ceil_mode pooling,
    # normalisation after pooling) at a small input, exact gradient through everything.
    torch.manual_seed(0)
    for build, size in ((lambda: cu.models.alexnet("paper"), 67), (cu.models.zfnet, 64)):
        features = build().features.eval()
        images = _images(n=2, size=(size, size), seed=5).float()
        for index in (4, 10, 12):  # conv2, conv4, conv5
            output = features[: index + 1](images)
            channel = int(output.flatten(2).amax(dim=2).amin(dim=0).argmax())  # > 0 in each
            rows, cols, _ = _strongest(output, channel=channel)
            expected = _autograd_projection(features, images, index, channel, rows, cols)
            ours = DeconvNet(features, lrn="gradient").project(
                images, str(index), channel=channel, rule="gradient"
            )
            scale = expected.abs().max()
            torch.testing.assert_close(ours / scale, expected / scale, rtol=0, atol=1e-5)


def test_small_pretrained_model_in_the_pixels_its_features_see():
    # The small models resize 28x28 to 64x64 first: projections are in the resized pixels.
    model = cu.models.load_pretrained("small_zfnet")
    test = cu.data.load_fashion_mnist("test", verbose=False)
    images = model.resize(test.tensors()[0][:4])
    x = images.clone().requires_grad_()
    output = model.features[:9](x)  # conv3
    rows, cols, _ = _strongest(output.detach(), channel=3)
    units = output[torch.arange(4), 3, rows, cols]
    (gradient,) = torch.autograd.grad(units.sum(), x)
    expected = gradient * units.detach()[:, None, None, None]
    deconvnet = DeconvNet(model, lrn="gradient")
    ours = deconvnet.project(test.tensors()[0][:4], "features.8", channel=3, rule="gradient")
    torch.testing.assert_close(ours, expected, rtol=1e-4, atol=1e-7)
    first = torch.utils.data.Subset(test, range(150))  # (image, label) pairs, 28x28
    table = top_activations(model, first, "features.8", k=2, progress=False)
    with torch.no_grad():
        naive = _naive_top(model.features[:9](model.resize(test.tensors()[0][:150])), k=2)
    pd.testing.assert_frame_equal(table, naive, check_dtype=False)
    assert deconvnet.project_top(first, "features.8", table[:3], progress=False).shape == (
        3,
        1,
        64,
        64,
    )


def _naive_top(output: torch.Tensor, k: int) -> pd.DataFrame:
    rows = []
    for channel in range(output.shape[1]):
        best = output[:, channel].flatten(1).max(dim=1)  # strongest position of each image
        order = torch.sort(best.values, descending=True, stable=True).indices[:k]
        for rank, image in enumerate(order.tolist()):
            where = int(best.indices[image])
            row, column = divmod(where, output.shape[-1])
            rows.append((channel, rank, image, row, column, float(best.values[image])))
    return pd.DataFrame(rows, columns=["channel", "rank", "image", "row", "column", "activation"])


def test_top_activations_equal_a_naive_loop():
    net, images = _random_net(seed=2), _images(n=23, seed=6)
    with torch.no_grad():
        expected = _naive_top(net[:7](images), k=4)
    table = top_activations(net, images, "6", k=4, batch_size=5, progress=False)
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)
    dataset = torch.utils.data.TensorDataset(images, torch.zeros(23))  # (image, label) pairs
    from_dataset = top_activations(net, dataset, net[6], k=4, batch_size=7, progress=False)
    pd.testing.assert_frame_equal(from_dataset, expected, check_dtype=False)


def test_project_top_equals_autograd_unit_by_unit():
    net, images = _random_net(seed=2), _images(n=11, seed=7)
    table = top_activations(net, images, "3", k=3, progress=False)
    for rule in ("gradient", "deconvnet"):
        ours = DeconvNet(net).project_top(
            images, "3", table, rule=rule, batch_size=4, progress=False
        )
        assert ours.shape == (len(table), 3, 31, 29)
        for i, unit in enumerate(table.itertuples()):
            rows, cols = torch.tensor([unit.row]), torch.tensor([unit.column])
            image = images[unit.image : unit.image + 1]
            if rule == "gradient":
                expected = _autograd_projection(net, image, 3, unit.channel, rows, cols)
            else:
                expected = _captum_projection(
                    net,
                    "3",
                    image,
                    rule,
                    unit.channel,
                    rows,
                    cols,
                    torch.tensor([unit.activation], dtype=torch.float64),
                )
            torch.testing.assert_close(ours[i : i + 1], expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rule", ["deconvnet", "gradient", "guided"])
def test_projection_is_zero_outside_the_receptive_field(rule):
    net, images = _random_net(seed=8), _images(n=1, size=(61, 61), seed=9)
    table = receptive_field(net, (3, 61, 61)).drop_duplicates("name", keep="last")
    fields = table.set_index("name")
    deconvnet = DeconvNet(net)
    for layer in ("0", "3", "6"):
        size, stride, start = (int(fields.loc[layer, key]) for key in ("size", "stride", "start"))
        for position in ((0, 0), (3, 2), (4, 4)):
            pixels = deconvnet.project(images, layer, position=position, rule=rule)
            nonzero = pixels[0].abs().sum(dim=0) > 0
            top, left = (start + p * stride for p in position)
            outside = torch.ones_like(nonzero)
            outside[max(top, 0) : top + size, max(left, 0) : left + size] = False
            assert nonzero.any() and not (nonzero & outside).any(), (layer, position)


def test_bad_input_gives_clear_errors():
    net, images = _random_net(), _images()
    deconvnet = DeconvNet(net)
    with pytest.raises(ValueError, match="^layer 'conv9'"):
        deconvnet.project(images, "conv9", channel=0)
    with pytest.raises(ValueError, match="^channel must be an int <= 7|^channel must be an int in"):
        deconvnet.project(images, "3", channel=8)
    with pytest.raises(ValueError, match=r"^position \(9, 0\) is outside the 9x8 map of layer '3'"):
        deconvnet.project(images, "3", channel=0, position=(9, 0))
    with pytest.raises(ValueError, match="^rule"):
        deconvnet.project(images, "3", channel=0, rule="saliency")
    with pytest.raises(ValueError, match="^lrn"):
        DeconvNet(net, lrn="skip")
    with pytest.raises(ValueError, match="^images"):
        deconvnet.project(images[0], "3", channel=0)
    with pytest.raises(ValueError, match="^k must be at most the number of images"):
        top_activations(net, images, "3", k=4, progress=False)
    with pytest.raises(ValueError, match="^forward_input must have signal's shape"):
        rectify(images, images[:1], "guided")
    with pytest.raises(ValueError, match="^top"):
        deconvnet.project_top(images, "3", pd.DataFrame({"image": [0]}), progress=False)
    unit = pd.DataFrame({"image": [0], "channel": [0], "row": [0], "column": [0]})
    with pytest.raises(ValueError, match="^top's image column"):
        deconvnet.project_top(images, "3", unit.assign(image=3), progress=False)
    with pytest.raises(ValueError, match="^top has units outside the 8 maps of 9x8"):
        deconvnet.project_top(images, "3", unit.assign(row=9), progress=False)
    with pytest.raises(TypeError, match="^model"):
        DeconvNet("alexnet")


def test_unsupported_layers_are_named():
    net = _random_net()
    net[1] = nn.BatchNorm2d(6).double().eval()
    with pytest.raises(TypeError, match="'1' is BatchNorm2d"):
        DeconvNet(net).project(_images(), "3", channel=0)
    DeconvNet(net).project(_images(), "0", channel=0)  # the layers below are all fine
    alexnet = torchvision.models.alexnet(weights=None)
    with pytest.raises(ValueError, match="model.features"):
        DeconvNet(alexnet).project(torch.rand(1, 3, 64, 64), "classifier.1", channel=0)


def test_project_checks_its_arguments_before_the_forward_pass():
    net, images = _random_net(), _images()
    calls = []
    net.register_forward_pre_hook(lambda *_: calls.append(1))
    for module in net.modules():
        module.register_forward_pre_hook(lambda *_: calls.append(1))
    deconvnet = DeconvNet(net)
    with pytest.raises(TypeError, match="^channel must be an int"):
        deconvnet.project(images, "3", channel=2.5)
    with pytest.raises(ValueError, match="^channel must be an int >= 0"):
        deconvnet.project(images, "3", channel=-1)
    with pytest.raises(TypeError, match="^position must be an int"):
        deconvnet.project(images, "3", channel=0, position=(0.5, 1))
    with pytest.raises(TypeError, match="^top must be the table of top_activations"):
        deconvnet.project_top(images, "3", [[0, 0, 0, 0]], progress=False)
    assert calls == []


def test_a_unit_that_is_not_positive_projects_to_zero_with_a_warning():
    # Issue 19: on a layer before its ReLU, position=None takes the strongest *rectified*
    # activation, as the paper (which projects rectified maps) and Captum do; a map whose
    # maximum is negative has no positive unit, so its projection is zero, with a warning.
    net, images = _random_net(seed=3), _images(seed=4)
    output = net[:1](images)
    negative = (output.flatten(2).amax(dim=2) < 0).all(dim=0).nonzero()
    if len(negative) == 0:
        net[0].bias.data[0] = -50.0  # make map 0 negative everywhere
        negative = torch.tensor([[0]])
    with pytest.warns(UserWarning, match="not positive"):
        pixels = DeconvNet(net).project(images, "0", channel=int(negative[0, 0]))
    assert torch.equal(pixels, torch.zeros_like(pixels))


def test_a_relu_used_twice_and_a_functional_relu_are_followed_or_refused():
    # Issue 24: named_children() lists a module used twice once; F.relu in a forward is
    # invisible to a walk through the modules. The first is followed, the second refused.
    torch.manual_seed(0)
    relu = nn.ReLU()
    c1, c2 = nn.Conv2d(3, 4, 3).double(), nn.Conv2d(4, 4, 3).double()
    net = nn.Sequential(c1, relu, c2, relu).eval()
    images = _images(n=2, size=(12, 12))
    output = net(images)
    rows, cols, _ = _strongest(output, channel=1)
    expected = _autograd_projection(net, images, 3, 1, rows, cols)
    ours = DeconvNet(net).project(images, "3", channel=1, rule="gradient")
    torch.testing.assert_close(ours, expected, rtol=1e-10, atol=1e-12)

    class Hidden(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(c1, c2)

        def forward(self, x):
            return self.features[1](F.relu(self.features[0](x)))

    with pytest.raises(ValueError, match="cannot follow"):
        DeconvNet(Hidden()).project(images, "features.1", channel=1)


def test_project_top_refuses_a_table_of_another_layer():
    net, images = _random_net(), _images()
    top = top_activations(net, images, "3", k=2)
    with pytest.raises(ValueError, match="computed at layer '3'"):
        DeconvNet(net).project_top(images, "4", top)


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (torch.rand(2, 1, 31, 29, dtype=torch.float64), "3 channels"),
        (torch.rand(2, 3, 31, 29, dtype=torch.float32), "dtype"),
        (torch.empty(2, 3, 31, 29, dtype=torch.float64, device="meta"), "meta"),
    ],
)
def test_images_the_model_cannot_take_are_refused_clearly(images, message):
    with pytest.raises(ValueError, match=f"^images.*{message}"):
        DeconvNet(_random_net()).project(images, "3")


def test_a_pandas_row_is_a_position():
    # Issue 24: a (row, column) pandas row gave "position must be an int".
    net, images = _random_net(), _images()
    top = top_activations(net, images, "3", k=1)
    unit = top.iloc[0]
    from_row = DeconvNet(net).project(
        images, "3", channel=int(unit["channel"]), position=unit[["row", "column"]]
    )
    from_tuple = DeconvNet(net).project(
        images, "3", channel=int(unit["channel"]), position=(int(unit["row"]), int(unit["column"]))
    )
    assert torch.equal(from_row, from_tuple)
