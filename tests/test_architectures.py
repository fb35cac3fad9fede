"""Tests of course_utils.architectures against the papers' counts, torchvision and autograd."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import GoogLeNet_Weights, ResNet50_Weights, ResNet152_Weights, VGG16_Weights
from torchvision.models.googlenet import Inception as TorchvisionInception

from course_utils.architectures import (
    BuildingBlock,
    Inception,
    NaiveInception,
    conv_stack,
    ilsvrc_networks,
    load_degradation_histories,
    plain_net,
    residual_net,
    se_resnet50,
)


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _randomise_batch_norm(module: nn.Module, seed: int = 0) -> None:
    generator = torch.Generator().manual_seed(seed)
    for bn in module.modules():
        if isinstance(bn, nn.BatchNorm2d):
            bn.weight.data = torch.rand(bn.num_features, generator=generator) + 0.5
            bn.bias.data = torch.randn(bn.num_features, generator=generator)
            bn.running_mean = torch.randn(bn.num_features, generator=generator)
            bn.running_var = torch.rand(bn.num_features, generator=generator) + 0.5


@pytest.mark.parametrize(("in_channels", "out_channels", "stride"), [(8, 8, 1), (8, 16, 2)])
def test_building_block_is_relu_of_f_plus_shortcut(in_channels, out_channels, stride):
    torch.manual_seed(0)
    residual = BuildingBlock(in_channels, out_channels, stride, residual=True).eval()
    _randomise_batch_norm(residual)
    plain = BuildingBlock(in_channels, out_channels, stride, residual=False).eval()
    plain.load_state_dict(residual.state_dict())
    x = torch.randn(2, in_channels, 9, 9)
    # F(x) written out from the layers, He et al. Fig. 2: conv-BN-ReLU-conv-BN.
    f = residual.bn2(residual.conv2(torch.relu(residual.bn1(residual.conv1(x)))))
    # Option A shortcut by hand: every stride-th pixel, new channels all zero.
    shortcut = torch.zeros_like(f)
    shortcut[:, :in_channels] = x[:, :, ::stride, ::stride]
    torch.testing.assert_close(residual(x), torch.relu(f + shortcut))
    torch.testing.assert_close(plain(x), torch.relu(f))
    assert residual(x).shape == (2, out_channels, -(-9 // stride), -(-9 // stride))


def test_residual_block_with_zero_f_is_the_identity():
    # The point of He et al. Sec. 3.1: if the best mapping is the identity, a residual
    # block only has to push F to zero; a plain block would then output zero.
    residual, plain = BuildingBlock(4, 4), BuildingBlock(4, 4, residual=False)
    for block in (residual, plain):
        nn.init.zeros_(block.bn2.weight)
        block.eval()
    x = torch.rand(3, 4, 5, 5)  # non-negative, as after a ReLU
    torch.testing.assert_close(residual(x), x)
    assert plain(x).abs().max() == 0


@pytest.mark.parametrize(("depth", "millions"), [(20, 0.27), (32, 0.46), (44, 0.66), (56, 0.85)])
def test_cifar_networks_have_the_papers_parameter_counts(depth, millions):
    # He et al. (2016), Table 6, CIFAR-10 (3-channel input): 0.27 M, 0.46 M, 0.66 M, 0.85 M.
    residual, plain = residual_net(depth, in_channels=3), plain_net(depth, in_channels=3)
    assert round(_count(residual) / 1e6, 2) == millions
    assert _count(plain) == _count(residual)  # option A shortcuts have no parameters


def test_resnet20_parameters_by_hand_and_depth():
    n = 3
    conv = 3 * 16 * 9 + 16 * 16 * 9 * (2 * n)  # stem + stage 1
    conv += 16 * 32 * 9 + 32 * 32 * 9 * (2 * n - 1)  # stage 2 (first conv widens)
    conv += 32 * 64 * 9 + 64 * 64 * 9 * (2 * n - 1)  # stage 3
    batch_norm = 2 * (16 * (1 + 2 * n) + 32 * 2 * n + 64 * 2 * n)  # a scale and a shift
    fully_connected = 64 * 10 + 10
    model = residual_net(20, in_channels=3)
    assert _count(model) == conv + batch_norm + fully_connected
    weight_layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(weight_layers) == 20
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert residual_net(8)(torch.zeros(1, 1, 28, 28)).shape == (1, 10)


def test_conv_stack_parameters_and_receptive_field_by_autograd():
    channels = 4
    stack, single = conv_stack(channels, 3, layers=3), conv_stack(channels, 7)
    # Simonyan & Zisserman Sec. 2.3: 3 (3^2 C^2) against 7^2 C^2 weights (+ biases).
    assert _count(stack) == 3 * (9 * channels**2 + channels)
    assert _count(single) == 49 * channels**2 + channels
    for model in (stack, single):
        x = torch.randn(1, channels, 21, 21, requires_grad=True)
        model(x)[0, :, 10, 10].sum().backward()
        rows, cols = torch.nonzero(x.grad[0].abs().sum(0), as_tuple=True)
        assert (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1) == (7, 7)


class _ConvReLU(nn.Sequential):
    """The conv_block torchvision's Inception accepts: a biased conv and a ReLU."""

    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__(nn.Conv2d(in_channels, out_channels, **kwargs), nn.ReLU())


def test_inception_against_torchvision_and_the_papers_columns():
    sizes = (192, 64, 96, 128, 16, 32, 32)  # Szegedy et al. Table 1, inception (3a)
    ours = Inception(*sizes)
    theirs = TorchvisionInception(*sizes, conv_block=_ConvReLU)
    # torchvision's "5x5" branch uses a 3x3 kernel: add back the 16 extra taps per weight.
    assert _count(ours) == _count(theirs) + 16 * 32 * (25 - 9)
    x = torch.randn(1, 192, 28, 28)
    assert ours(x).shape == theirs(x).shape == (1, 256, 28, 28)
    by_hand = (192 * 64 + 64) + (192 * 96 + 96) + (96 * 128 * 9 + 128)
    by_hand += (192 * 16 + 16) + (16 * 32 * 25 + 32) + (192 * 32 + 32)
    assert _count(ours) == by_hand


def test_naive_inception_by_hand():
    naive = NaiveInception(192, 64, 128, 32)
    assert _count(naive) == (192 * 64 + 64) + (192 * 128 * 9 + 128) + (192 * 32 * 25 + 32)
    assert naive.out_channels == 64 + 128 + 32 + 192
    x = torch.randn(1, 192, 7, 7)
    out = naive(x)
    torch.testing.assert_close(out[:, 224:], F.max_pool2d(x, 3, stride=1, padding=1))


def test_se_resnet50_adds_the_excitation_layers_and_computes_the_papers_equation():
    with torch.device("meta"):
        model = se_resnet50()
    # ResNet-50: 3, 4, 6, 3 bottlenecks with 256, 512, 1024, 2048 output channels.
    extra = sum(
        blocks * (c * (c // 16) + c // 16 + (c // 16) * c + c)  # two FC layers with biases
        for blocks, c in ((3, 256), (4, 512), (6, 1024), (3, 2048))
    )
    assert _count(model) == ResNet50_Weights.IMAGENET1K_V1.meta["num_params"] + extra
    small = se_resnet50(num_classes=5).eval()
    block = small.layer1[0]
    se = block.bn3[1]
    u = torch.randn(2, 256, 6, 6)
    # Hu et al. Eq. 2-4: z = mean of U over the map; s = sigmoid(W2 relu(W1 z)); out = s * U.
    z = u.mean(dim=(2, 3))
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    s = torch.sigmoid(F.linear(torch.relu(F.linear(z, w1, b1)), w2, b2))
    torch.testing.assert_close(se(u), s[:, :, None, None] * u)


def test_ilsvrc_networks_match_torchvision_and_the_papers():
    table = ilsvrc_networks().set_index("network")
    assert table.loc["AlexNet", "parameters"] == 60_965_224  # models.alexnet("paper")
    assert table.loc["VGG-16", "parameters"] == VGG16_Weights.IMAGENET1K_V1.meta["num_params"]
    assert (
        table.loc["GoogLeNet", "parameters"] == GoogLeNet_Weights.IMAGENET1K_V1.meta["num_params"]
    )
    assert (
        table.loc["ResNet-152", "parameters"] == ResNet152_Weights.IMAGENET1K_V1.meta["num_params"]
    )
    # The papers' depths: AlexNet and ZFNet 8 (5 conv + 3 FC), VGG-16 16, GoogLeNet 22
    # (Szegedy et al. Sec. 5), ResNet-152 152 (He et al. Table 1).
    assert table["depth"].to_dict() == {
        "AlexNet": 8,
        "ZFNet": 8,
        "GoogLeNet": 22,
        "VGG-16": 16,
        "ResNet-152": 152,
    }
    # ZFNet is the network of Zeiler & Fergus's paper, not of the 2013 winner (Clarifai).
    assert table.loc["ZFNet", "rank"] == 0 and table.loc["ZFNet", "team"] != "Clarifai"


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="^depth"):
        plain_net(21)
    with pytest.raises(TypeError, match="^depth"):
        residual_net(20.0)
    with pytest.raises(ValueError, match="^widths must be three ints"):
        residual_net(20, widths=(16, 32))
    with pytest.raises(TypeError, match="^widths must be three ints"):
        residual_net(20, widths="abc")
    with pytest.raises(TypeError, match="^residual"):
        BuildingBlock(4, 4, residual="yes")
    with pytest.raises(ValueError, match="^out_channels"):
        BuildingBlock(8, 4)
    with pytest.raises(ValueError, match="^ch5x5red"):
        Inception(192, 64, 96, 128, 0, 32, 32)
    with pytest.raises(ValueError, match="^kernel_size"):
        conv_stack(4, kernel_size=4)
    with pytest.raises(ValueError, match="^reduction"):
        se_resnet50(reduction=0)


def test_shipped_degradation_histories_are_complete():
    # scripts/train_degradation.py: every network, depth and seed has all its epochs, and every
    # network and depth has the same number of seeds.
    histories = load_degradation_histories()
    assert set(histories["network"]) == {"plain", "residual"}
    runs = histories.groupby(["network", "depth", "seed"])["epoch"].apply(list)
    epochs = list(range(1, histories["epoch"].max() + 1))
    assert all(run == epochs for run in runs)
    assert runs.groupby(["network", "depth"]).size().nunique() == 1  # same seeds everywhere
    assert histories[["train_accuracy", "test_accuracy"]].stack().between(0, 1).all()
