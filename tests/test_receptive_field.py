"""Tests of course_utils.receptive_field.

References, none computed with the code under test:
* hand-worked examples of the recurrences (worked out in the comments);
* gradients: every analytic field is compared with the pixels that autograd finds
  reaching the unit (on the exact "linear twin" of the model), on every network of
  the chapter's table, at input sizes where the field of the tested unit lies inside
  the image, so the whole field is measured;
* published values: Araujo, Norris & Sim (2019), Distill, computed with their library on
  TF-Slim's networks; per-end-point values from the library's RECEPTIVE_FIELD_TABLE.md
  (github.com/google-research/receptive_field, formerly tf.contrib.receptive_field),
  where "effective padding" is minus our ``start``.
"""

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

import course_utils as cu
from course_utils.receptive_field import (
    effective_receptive_field,
    empirical_receptive_field,
    field_box,
    mass_fraction,
    receptive_field,
)

torch.set_num_threads(2)


def rows(table, names):
    """{name: (size, stride, start)} of the last row of each name."""
    return {
        name: tuple(
            int(v) for v in table[table["name"] == name].iloc[-1][["size", "stride", "start"]]
        )
        for name in names
    }


def measured_box(mask):
    """(x1, y1, x2, y2) of the True pixels of an (H, W) mask, which must fill that box."""
    ys, xs = mask.nonzero(as_tuple=True)
    box = (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)
    assert int(mask.sum()) == (box[2] - box[0]) * (box[3] - box[1]), "the field has holes"
    return box


# ---------------------------------------------------------------- hand-worked examples


def test_hand_worked_one_dimensional_example():
    # conv 3 (pad 1) -> max pool 2 (stride 2) -> conv 3 (pad 1), by hand along one axis:
    # conv1: size 1 + (3 - 1) * 1 = 3, stride 1, start 0 - 1 * 1 = -1
    # pool:  size 3 + (2 - 1) * 1 = 4, stride 1 * 2 = 2, start -1 - 0 = -1
    # conv2: size 4 + (3 - 1) * 2 = 8, stride 2, start -1 - 1 * 2 = -3
    model = nn.Sequential(
        nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1)
    )
    table = receptive_field(model, 12)
    assert list(table["name"]) == ["0", "1", "2"]
    assert rows(table, ["0", "1", "2"]) == {"0": (3, 1, -1), "1": (4, 2, -1), "2": (8, 2, -3)}
    # Unit 2 of the last layer sees pixels -3 + 2 * 2 = 1 to 1 + 8 - 1 = 8.
    assert field_box(table, "2", (2, 2)) == (1, 1, 9, 9)
    assert measured_box(empirical_receptive_field(model, 12, "2", position=(2, 2))) == (1, 1, 9, 9)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_dilation_and_same_padding_by_hand():
    # conv 3, stride 2, pad 1: (3, 2, -1); then 3x3 dilated by 2 spans 5 pixels of its
    # input: size 3 + 2 * (3 - 1) * 2 = 11, stride 2, start -1 - 2 * 2 = -5.
    model = nn.Sequential(nn.Conv2d(1, 1, 3, 2, 1), nn.Conv2d(1, 1, 3, padding=2, dilation=2))
    assert rows(receptive_field(model, 32), ["1"]) == {"1": (11, 2, -5)}
    # Unit 6 of the dilated layer reads units 4, 6, 8 of the first layer, which see pixels
    # 7-9, 11-13 and 15-17: the extent is 7..17 (11 pixels, start -5 + 6 * 2 = 7), with
    # holes at 10 and 14 (the "gridding" of dilated convolutions).
    seen = torch.zeros(32, dtype=torch.bool)
    seen[[7, 8, 9, 11, 12, 13, 15, 16, 17]] = True
    mask = empirical_receptive_field(model, 32, "1", position=(6, 6))
    assert torch.equal(mask, seen[:, None] & seen[None, :])
    # padding="same" with an even kernel: PyTorch pads 3 // 2 = 1 before, 2 after.
    even = nn.Sequential(nn.Conv2d(1, 1, 4, padding="same"))
    assert rows(receptive_field(even, 9), ["0"]) == {"0": (4, 1, -1)}
    assert measured_box(empirical_receptive_field(even, 9, "0", position=(4, 4))) == (3, 3, 7, 7)


def test_ceil_mode_adds_a_unit_that_sees_less():
    # 2x2 pooling, stride 2, on 7 pixels: floor mode gives 3 units, ceil mode 4; the
    # fourth window starts at 6 and covers pixels 6 and 7, and only pixel 6 exists.
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2, 2, ceil_mode=True))
    table = receptive_field(model, 7)
    assert rows(table, ["1"]) == {"1": (2, 2, 0)}
    assert field_box(table, "1", (3, 3), clip=False) == (6, 6, 8, 8)
    assert field_box(table, "1", (3, 3)) == (6, 6, 7, 7)
    assert measured_box(empirical_receptive_field(model, 7, "1", position=(3, 3))) == (6, 6, 7, 7)


def test_rectangular_fields_get_x_columns_and_every_column_is_int():
    model = nn.Sequential(nn.Conv2d(1, 1, (3, 5), stride=(1, 2), padding=(1, 0)))
    table = receptive_field(model, (6, 20))
    assert (table.loc[0, "size"], table.loc[0, "size_x"]) == (3, 5)
    assert (table.loc[0, "stride"], table.loc[0, "stride_x"]) == (1, 2)
    assert (table.loc[0, "start"], table.loc[0, "start_x"]) == (-1, 0)
    assert all(str(table[c].dtype) == "int64" for c in table.columns if c != "name")
    assert table.attrs["input_size"] == (6, 20)
    assert field_box(table, "0", (2, 3)) == (6, 1, 11, 4)
    assert measured_box(empirical_receptive_field(model, (6, 20), "0", position=(2, 3))) == (
        6,
        1,
        11,
        4,
    )


def test_global_pooling_and_fully_connected_see_the_whole_input():
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, stride=2),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 2),
    )
    table = receptive_field(model, 15)
    assert rows(table, ["1", "2", "3"]) == {"1": (15, 0, 0), "2": (15, 0, 0), "3": (15, 0, 0)}
    mask = empirical_receptive_field(model, 15, "3", position=(0, 0))
    assert bool(mask.all())


def test_adaptive_pooling_is_a_window_when_sizes_divide():
    # 12 -> 4: windows of 3 with stride 3 (AdaptiveAvgPool2d's start = floor(i * 12 / 4)).
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.AdaptiveMaxPool2d(4))
    assert rows(receptive_field(model, 12), ["1"]) == {"1": (3, 3, 0)}
    with pytest.raises(ValueError, match="'1' pools 13 positions into 4"):
        receptive_field(model, 13)


# ------------------------------------------- published values (Araujo et al. 2019)

# RECEPTIVE_FIELD_TABLE.md, vgg_16 at 224: end-point -> (RF, effective stride, effective padding);
# torchvision's VGG-16 is the same network, its features.N are these end-points.
VGG_16 = {
    "features.0": (3, 1, 1),  # conv1/conv1_1
    "features.4": (6, 2, 2),  # pool1
    "features.5": (10, 2, 4),  # conv2/conv2_1
    "features.9": (16, 4, 6),  # pool2
    "features.10": (24, 4, 10),  # conv3/conv3_1
    "features.12": (32, 4, 14),  # conv3/conv3_2
    "features.16": (44, 8, 18),  # pool3
    "features.17": (60, 8, 26),  # conv4/conv4_1
    "features.19": (76, 8, 34),  # conv4/conv4_2
    "features.23": (100, 16, 42),  # pool4
    "features.24": (132, 16, 58),  # conv5/conv5_1
    "features.26": (164, 16, 74),  # conv5/conv5_2
    "features.30": (212, 32, 90),  # pool5
}

# alexnet_v2 at 224 (TF-Slim: the layers of Krizhevsky et al. 2012, VALID conv1 and pooling).
ALEXNET_V2 = {
    "features.0": (11, 4, 0),  # conv1
    "features.3": (19, 8, 0),  # pool1
    "features.4": (51, 8, 16),  # conv2
    "features.8": (99, 16, 32),  # conv3
    "features.10": (131, 16, 48),  # conv4
    "features.12": (163, 16, 64),  # conv5
    "features.14": (195, 32, 64),  # pool5
}


def published(values):
    return {name: (size, stride, -padding) for name, (size, stride, padding) in values.items()}


def test_vgg16_reproduces_the_published_table():
    with torch.device("meta"):
        model = torchvision.models.vgg16()
    assert rows(receptive_field(model, 224), VGG_16) == published(VGG_16)


def test_alexnet_paper_reproduces_alexnet_v2_and_torchvision_pads_two_more():
    with torch.device("meta"):
        paper, ours_tv = cu.models.alexnet("paper"), torchvision.models.alexnet()
    assert rows(receptive_field(paper, 227), ALEXNET_V2) == published(ALEXNET_V2)
    # torchvision's AlexNet: no LRN, so its pool1/conv2/... are features.2/3/...; conv1 pads
    # by 2 (to take 224 inputs), which moves every start 2 pixels into the padding.
    tv_names = ["features.0", "features.2", "features.3", "features.6", "features.8",
                "features.10", "features.12"]  # fmt: skip
    tv = rows(receptive_field(ours_tv, 224), tv_names)
    expected = [(size, stride, start - 2) for size, stride, start in published(ALEXNET_V2).values()]
    assert list(tv.values()) == expected


def paper_striding(model):
    """He et al. (2016), Sec. 3.3: downsample in conv3_1, conv4_1, conv5_1, i.e. in the
    bottleneck's first 1x1 convolution; torchvision ("V1.5") strides its 3x3 instead."""
    for stage in (model.layer2, model.layer3, model.layer4):
        stage[0].conv1.stride, stage[0].conv2.stride = (2, 2), (1, 1)
    return model


def test_resnet50_reproduces_resnet_v1_50_with_the_papers_striding():
    with torch.device("meta"):
        model = torchvision.models.resnet50()
    blocks = ["layer1", "layer2", "layer3", "layer4"]
    # torchvision's own placement of the stride gives a smaller field (427, not 483).
    assert [size for size, _, _ in rows(receptive_field(model, 321), blocks).values()] == [
        35, 91, 267, 427]  # fmt: skip
    # resnet_v1_50 at 321: block1..4 RF 35, 99, 291, 483, effective padding 17, 49, 145,
    # 241, final stride 32 (TF-Slim strides at the end of a block, so its block1 and
    # block2 strides, 8 and 16, are those of our next block's first unit).
    table = rows(receptive_field(paper_striding(model), 321), blocks)
    assert [(size, -start) for size, _, start in table.values()] == [
        (35, 17), (99, 49), (291, 145), (483, 241)]  # fmt: skip
    assert table["layer4"][1] == 32
    # At 224 the table says padding 15/47/143/239: TF's "SAME" max pooling pads a map of
    # even size (112) only after it, not before. Emulated, the starts follow.
    model.maxpool = nn.MaxPool2d(3, 2, padding=0, ceil_mode=True)
    table = rows(receptive_field(model, 224), blocks)
    assert [-start for _, _, start in table.values()] == [15, 47, 143, 239]


# ------------------------------- analytic against empirical, on the chapter's networks

NETWORKS = {
    # name: (builder, input size, layers); sizes chosen so that the centre unit's
    # field lies inside the image (checked below).
    "alexnet (paper)": (
        lambda: cu.models.alexnet("paper").features,
        227,
        ["0", "3", "14"],
    ),
    "alexnet (torchvision)": (lambda: torchvision.models.alexnet(), 227, ["features.12"]),
    "zfnet": (lambda: cu.models.zfnet().features, 224, ["4", "14"]),
    "vgg16": (lambda: torchvision.models.vgg16().features, 224, ["30"]),
    "resnet50": (lambda: torchvision.models.resnet50(), 448, ["layer4"]),
    "googlenet": (
        lambda: torchvision.models.googlenet(init_weights=False),
        416,
        ["inception5b"],
    ),
    "small_alexnet": (lambda: cu.models.small_alexnet().features, 256, ["4", "7", "14"]),
    "small_zfnet": (lambda: cu.models.small_zfnet().features, 256, ["4", "7", "14"]),
}


@pytest.mark.parametrize("network", NETWORKS)
def test_analytic_field_equals_the_pixels_gradients_reach(network):
    builder, size, layers = NETWORKS[network]
    with torch.device("meta"):
        model = builder()
    table = receptive_field(model, size)
    for layer in layers:
        _, stride, start = rows(table, [layer])[layer]
        first_inside = -(start // stride)  # the first unit whose field starts at pixel >= 0
        box = field_box(table, layer, (first_inside, first_inside), clip=False)
        assert box[2] <= size, f"{network} {layer}: field {box} is clipped at {size}"
        mask = empirical_receptive_field(model, size, layer, position=(first_inside, first_inside))
        assert measured_box(mask) == box, f"{network} {layer}"


def test_small_models_are_described_in_the_resized_pixels():
    # forward resizes 28 -> 64 first: the table of the whole model is that of its features
    # at 64, then every unit of the classifier sees all 64 x 64 pixels.
    model = cu.models.small_zfnet()
    whole, features = receptive_field(model, 28), receptive_field(model.features, 64)
    assert whole.attrs["input_size"] == (64, 64)
    named = whole[whole["name"].str.startswith("features.")].reset_index(drop=True)
    expected = features.assign(name="features." + features["name"])
    assert named.equals(expected)
    assert rows(whole, ["classifier.6"]) == {"classifier.6": (64, 0, 0)}
    # Every row of the small network at 64, against gradients, for the corner unit
    # (its field is clipped by the image's top and left edges).
    for layer in [str(i) for i in range(15)]:
        mask = empirical_receptive_field(model.features, 64, layer, position=(0, 0))
        assert measured_box(mask) == field_box(features, layer, (0, 0)), layer


def test_googlenet_channels_of_a_concatenation_see_different_fields():
    # A 1x1 branch (channel 0) sees only what the block's input saw; the union over
    # channels adds a 3x3 branch's two extra strides (2 x 8 pixels in inception3a).
    with torch.device("meta"):
        model = torchvision.models.googlenet(init_weights=False)
    table = rows(receptive_field(model, 128), ["maxpool2", "inception3a"])
    assert table["inception3a"][0] == table["maxpool2"][0] + 2 * 8
    one_channel = empirical_receptive_field(model, 128, "inception3a", position=(8, 8), channel=0)
    all_channels = empirical_receptive_field(model, 128, "inception3a", position=(8, 8))
    assert measured_box(one_channel)[2] - measured_box(one_channel)[0] == table["maxpool2"][0]
    assert measured_box(all_channels)[2] - measured_box(all_channels)[0] == table["inception3a"][0]


# --------------------------------------------------------------- effective field


def test_effective_field_is_the_mean_absolute_gradient_share():
    generator = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(3, 2, 3))
    for parameter in model.parameters():
        parameter.data = torch.randn(parameter.shape, generator=generator, dtype=torch.float64)
    images = torch.randn(4, 2, 12, 12, generator=generator, dtype=torch.float64)
    erf = effective_receptive_field(model, images, "3", position=(1, 2), channel="all")
    # Reference: the full Jacobian of each image's output, by autograd.
    expected = torch.zeros(12, 12, dtype=torch.float64)
    for image in images:
        unit = lambda x: model(x[None])[0, :, 1, 2]  # noqa: E731 (both output channels)
        jacobian = torch.autograd.functional.jacobian(unit, image)  # (2, 2, 12, 12)
        expected += jacobian.sum(dim=0).abs().sum(dim=0)
    torch.testing.assert_close(erf, expected / expected.sum())
    assert model.training  # the mode is restored


def test_effective_field_of_a_layer_followed_by_an_inplace_relu():
    # The conv's output is negative everywhere; the in-place ReLU after it must not zero
    # the gradient of the conv's own unit (it would if the hook kept the overwritten tensor).
    model = nn.Sequential(nn.Conv2d(1, 1, 3, bias=False), nn.ReLU(inplace=True))
    nn.init.constant_(model[0].weight, -1.0)
    erf = effective_receptive_field(
        model, torch.ones(1, 1, 7, 7), "0", position=(2, 2), channel="all"
    )
    expected = torch.zeros(7, 7)
    expected[2:5, 2:5] = 1 / 9  # |d unit / d pixel| = 1 on the 3x3 window, shared out
    torch.testing.assert_close(erf, expected)


def test_mass_fraction_by_hand():
    erf = torch.zeros(6, 6)
    erf[2, 2] = 0.5
    erf[1, 2] = erf[3, 2] = erf[2, 1] = erf[2, 3] = 0.125
    box = (1, 1, 5, 5)  # 16 pixels
    assert mass_fraction(erf, box, 0.5) == pytest.approx(1 / 16)
    assert mass_fraction(erf, box, 0.9) == pytest.approx(5 / 16)  # 0.5 + 3 x 0.125 < 0.9
    assert mass_fraction(erf, box, 1.0) == pytest.approx(5 / 16)


# --------------------------------------------------------------------- bad input


def test_bad_input_gives_errors_that_name_it():
    model = cu.models.small_alexnet().features
    with pytest.raises(TypeError, match="^model"):
        receptive_field("alexnet", 64)
    with pytest.raises(TypeError, match="^input_size"):
        receptive_field(model, 64.0)
    with pytest.raises(ValueError, match="^input_size"):
        receptive_field(model, (0, 64))
    with pytest.raises(
        ValueError, match=r"input_size \(20, 20\) does not fit.*: 14 \(MaxPool2d\) failed"
    ):
        receptive_field(model, 20)
    with pytest.raises(ValueError, match=r"layer '1' \(ConvTranspose2d\) is not supported"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 3)), 8)
    with pytest.raises(ValueError, match="circular"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular")), 8)
    with pytest.raises(ValueError, match="^model must be a network"):
        receptive_field(nn.Conv2d(1, 1, 3), 8)
    with pytest.raises(ValueError, match="^layer 'conv9' is not a submodule"):
        empirical_receptive_field(model, 64, "conv9")
    with pytest.raises(ValueError, match="^position"):
        empirical_receptive_field(model, 64, "4", position=(7, 0))
    with pytest.raises(ValueError, match="^channel"):
        empirical_receptive_field(model, 64, "4", channel=48)
    with pytest.raises(ValueError, match="^layer 'conv9' is not a row"):
        field_box(receptive_field(model, 64), "conv9")
    with pytest.raises(ValueError, match="^images"):
        effective_receptive_field(model, torch.zeros(2, 64, 64), "4")
    with pytest.raises(ValueError, match="^model must have real weights"):
        with torch.device("meta"):
            meta = cu.models.small_alexnet().features
        effective_receptive_field(meta, torch.zeros(1, 1, 64, 64), "4")
    with pytest.raises(ValueError, match="^mass"):
        mass_fraction(torch.ones(3, 3), (0, 0, 3, 3), 1.5)


class Rolls(nn.Module):
    """A forward with an operation whose effect on fields the rules do not know."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)

    def forward(self, x):
        return torch.roll(self.conv(x), 1, dims=-1)


def test_unknown_operation_is_named_and_the_model_is_left_as_it_was():
    model = Rolls().train()
    with pytest.raises(ValueError, match="applies roll to a feature map"):
        receptive_field(model, 8)
    assert model.training and not model._forward_hooks and not model.conv._forward_pre_hooks


def test_field_box_refuses_a_table_that_receptive_field_did_not_make():
    table = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3)), (1, 8, 8))
    with pytest.raises(TypeError, match=r"^table must be the table of receptive_field\(\)"):
        field_box({"name": ["0"]}, "0")
    with pytest.raises(ValueError, match=r"^table must have the columns .*\['size'\]"):
        field_box(table.drop(columns="size"), "0")
    assert field_box(table, "0") == (0, 0, 3, 3)


def test_split_chunk_and_unbind_along_channels_are_followed():
    # Issue 24: branches after torch.split were dropped (size 3 where gradients measure 9).
    class Split(nn.Module):
        def __init__(self, how):
            super().__init__()
            self.how = how
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.wide = nn.Conv2d(2, 2, 7, padding=3)
            self.narrow = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            x = self.conv(x)
            if self.how == "split":
                a, b = torch.split(x, 2, dim=1)
            elif self.how == "chunk":
                a, b = x.chunk(2, dim=1)
            else:
                parts = x.unbind(dim=1)
                a, b = torch.stack(parts[:2], 1), torch.stack(parts[2:], 1)
            return torch.cat([self.narrow(a), self.wide(b)], dim=1)

    for how in ("split", "chunk", "unbind"):
        model = Split(how)
        if how == "unbind":
            with pytest.raises(ValueError, match="stack"):
                receptive_field(model, 21)
            continue
        table = receptive_field(model, 21)
        assert table.iloc[-1]["size"] == 9, how
        measured = measured_box(empirical_receptive_field(model, 21, "wide", position=(10, 10)))
        assert measured[2] - measured[0] == 9


def test_shufflenet_v2_gives_a_table_not_a_key_error():
    with torch.device("meta"):
        model = torchvision.models.shufflenet_v2_x0_5()
    table = receptive_field(model, 224)
    assert table.iloc[-1]["stride"] == 0


def test_field_box_refuses_a_unit_that_sees_only_padding_and_a_position_off_the_map():
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 3, padding=5))
    table = receptive_field(model, 4)
    with pytest.raises(ValueError, match="sees only padding"):
        field_box(table, "1", (0, 0))
    assert field_box(table, "1", (0, 0), clip=False) == (-5, -5, -2, -2)
    with pytest.raises(ValueError, match="outside the 12x12 map"):
        field_box(table, "1", (12, 0))


def test_field_box_leaves_out_pixels_that_floor_mode_pooling_drops():
    # 5 pixels, 2x2 pooling (floor): pixel 4 is never seen by any later unit.
    model = nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1))
    table = receptive_field(model, 5)
    box = field_box(table, "2", (1, 1))
    measured = measured_box(empirical_receptive_field(model, 5, "2", position=(1, 1)))
    assert box == measured == (0, 0, 4, 4)


def test_empirical_field_follows_functional_max_pooling():
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3)
            self.last = nn.Conv2d(1, 1, 1)

        def forward(self, x):
            return self.last(F.max_pool2d(self.conv(x), 2))

    model = Functional()
    box = field_box(receptive_field(model, 12), "last", (2, 2))
    assert measured_box(empirical_receptive_field(model, 12, "last", position=(2, 2))) == box


def test_input_size_in_hwc_order_is_named():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
    with pytest.raises(ValueError, match=r"^input_size must be \(C, H, W\).*H, W, C order"):
        receptive_field(model, (64, 64, 1))


def test_branch_sizes_of_an_inception_block_equal_per_channel_gradients():
    # Issue 19: where branches concatenate, each channel keeps its own branch's field;
    # the union (``size``) is what the 3x3 branches see, not the 1x1 branch.
    with torch.device("meta"):
        model = torchvision.models.googlenet(init_weights=False, aux_logits=False)
    table = receptive_field(model, 128, branches=True).set_index("name")
    sizes = table.loc["inception3a", "branch_sizes"]
    block = model.inception3a
    widths = [
        block.branch1.conv.out_channels,
        block.branch2[1].conv.out_channels,
        block.branch3[1].conv.out_channels,
        block.branch4[1].conv.out_channels,
    ]
    firsts = [sum(widths[:i]) for i in range(4)]
    measured = []
    for channel in firsts:
        mask = empirical_receptive_field(model, 128, "inception3a", channel=channel)
        box = measured_box(mask)
        measured.append(box[2] - box[0])
    assert list(sizes) == measured
    assert sizes[0] < table.loc["inception3a", "size"] == max(sizes)
    assert table.loc["conv1.conv", "branch_sizes"] == (table.loc["conv1.conv", "size"],)
