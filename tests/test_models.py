"""Tests of course_utils.models against the papers' numbers and independent references.

Paper numbers are written here from the papers, not from the code:

* Krizhevsky, Sutskever & Hinton (2012), "ImageNet Classification with Deep
  Convolutional Neural Networks": abstract ("60 million parameters"), Sec. 3.3
  (LRN: k=2, n=5, alpha=1e-4, beta=0.75), Sec. 3.5 (96 kernels of 11x11x3 with
  stride 4; 256 of 5x5x48; 384 of 3x3x256; 384 of 3x3x192; 256 of 3x3x192; fully
  connected layers of 4096), Fig. 2 caption (neurons per layer 253,440-186,624-
  64,896-64,896-43,264-4096-4096-1000).
* Zeiler & Fergus (2014), "Visualizing and Understanding Convolutional Networks",
  Fig. 3: 224x224 input; 96 filters 7x7 stride 2 -> 110; pool 3x3 stride 2 -> 55;
  256 filters 5x5 stride 2 -> 26; pool -> 13; 384, 384, 256 filters 3x3 -> 13;
  pool -> 6; 4096, 4096, C.
"""

import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.download import ChecksumError
from course_utils.models import (
    LocalResponseNorm,
    alexnet,
    energy_above,
    filter_spectra,
    first_layer_aliasing,
    layer_table,
    load_imagenet_alexnet,
    load_pretrained,
    renormalize_filters_,
    small_alexnet,
    small_zfnet,
    zfnet,
)


def _n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _feature_sizes(model: nn.Module, size: int, channels: int = 3) -> list[tuple[int, ...]]:
    """(C, H, W) after every layer of model.features."""
    x = torch.zeros(1, channels, size, size)
    shapes = []
    with torch.no_grad():
        for layer in model.features:
            x = layer(x)
            shapes.append(tuple(x.shape[1:]))
    return shapes


# --- AlexNet, paper variant -------------------------------------------------


def test_alexnet_parameter_count_from_the_paper_layers():
    # (kernel h * w * input depth seen by one kernel + 1 bias) * kernels, per layer,
    # with the input depths of Sec. 3.5 (48 and 192 where each GPU saw half the maps).
    by_hand = (
        (11 * 11 * 3 + 1) * 96  # conv1
        + (5 * 5 * 48 + 1) * 256  # conv2 (two GPUs: 48 of the 96 maps)
        + (3 * 3 * 256 + 1) * 384  # conv3 (all maps of conv2)
        + (3 * 3 * 192 + 1) * 384  # conv4
        + (3 * 3 * 192 + 1) * 256  # conv5
        + (6 * 6 * 256 + 1) * 4096  # fc6
        + (4096 + 1) * 4096  # fc7
        + (4096 + 1) * 1000  # fc8
    )
    assert by_hand == 60_965_224
    assert _n_params(alexnet("paper")) == by_hand
    # The abstract's "60 million parameters".
    assert 60_000_000 < by_hand < 61_000_000


def test_alexnet_feature_maps_match_the_paper():
    shapes = _feature_sizes(alexnet("paper"), 227)
    convs = [
        s
        for s, layer in zip(shapes, alexnet("paper").features, strict=True)
        if isinstance(layer, nn.Conv2d)
    ]
    assert convs == [(96, 55, 55), (256, 27, 27), (384, 13, 13), (384, 13, 13), (256, 13, 13)]
    assert shapes[-1] == (256, 6, 6)
    # Fig. 2 caption: neurons in conv2..conv5; conv1's 253,440 is not 55*55*96 = 290,400,
    # a known inconsistency of the caption, so it is not asserted.
    neurons = [c * h * w for c, h, w in convs[1:]]
    assert neurons == [186_624, 64_896, 64_896, 43_264]


def test_alexnet_224_does_not_give_55():
    # The paper's "224x224" input: (224 - 11) // 4 + 1 = 54, not 55.
    conv1 = alexnet("paper").features[0]
    assert conv1(torch.zeros(1, 3, 224, 224)).shape[-1] == 54


def test_alexnet_paper_layers_as_in_the_paper():
    model = alexnet("paper")
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride, c.groups) for c in convs] == [
        (96, (11, 11), (4, 4), 1),
        (256, (5, 5), (1, 1), 2),
        (384, (3, 3), (1, 1), 1),
        (384, (3, 3), (1, 1), 2),
        (256, (3, 3), (1, 1), 2),
    ]
    pools = [m for m in model.features if isinstance(m, nn.MaxPool2d)]
    assert [(p.kernel_size, p.stride) for p in pools] == [(3, 2)] * 3  # overlapping, Sec. 3.4
    lrns = [m for m in model.features if isinstance(m, LocalResponseNorm)]
    assert [(n.size, n.alpha, n.beta, n.k) for n in lrns] == [(5, 1e-4, 0.75, 2.0)] * 2
    drops = [m.p for m in model.classifier if isinstance(m, nn.Dropout)]
    assert drops == [0.5, 0.5]
    assert model(torch.zeros(2, 3, 227, 227)).shape == (2, 1000)


def test_alexnet_torchvision_variant_is_torchvisions():
    import torchvision

    ours, theirs = alexnet("torchvision"), torchvision.models.alexnet(weights=None)
    assert [tuple(p.shape) for p in ours.parameters()] == [
        tuple(p.shape) for p in theirs.parameters()
    ]
    assert _n_params(ours) == 61_100_840  # torchvision's documented num_params


def test_alexnet_num_classes_and_bad_inputs():
    assert alexnet(num_classes=10).classifier[-1].out_features == 10
    with pytest.raises(ValueError, match="^variant"):
        alexnet("caffe")
    with pytest.raises(ValueError, match="^num_classes"):
        zfnet(num_classes=0)


# --- ZFNet -------------------------------------------------------------------


def test_zfnet_feature_maps_match_fig3():
    model = zfnet()
    shapes = _feature_sizes(model, 224)
    spatial = [
        h
        for (_, h, _), layer in zip(shapes, model.features, strict=True)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d))
    ]
    assert spatial == [110, 55, 26, 13, 13, 13, 13, 6]  # conv1, pool1, conv2, pool2, conv3-5, pool5
    convs = [m for m in model.features if isinstance(m, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size, c.stride, c.groups) for c in convs] == [
        (96, (7, 7), (2, 2), 1),
        (256, (5, 5), (2, 2), 1),
        (384, (3, 3), (1, 1), 1),
        (384, (3, 3), (1, 1), 1),
        (256, (3, 3), (1, 1), 1),
    ]
    assert [m.out_features for m in model.classifier if isinstance(m, nn.Linear)] == [
        4096,
        4096,
        1000,
    ]


def test_zfnet_parameter_count_by_hand():
    by_hand = (
        (7 * 7 * 3 + 1) * 96
        + (5 * 5 * 96 + 1) * 256
        + (3 * 3 * 256 + 1) * 384
        + (3 * 3 * 384 + 1) * 384
        + (3 * 3 * 384 + 1) * 256
        + (6 * 6 * 256 + 1) * 4096
        + (4096 + 1) * 4096
        + (4096 + 1) * 1000
    )
    assert _n_params(zfnet()) == by_hand == 62_357_608


# --- Local response normalisation -------------------------------------------


def _lrn_by_hand(a: torch.Tensor, n=5, k=2.0, alpha=1e-4, beta=0.75) -> torch.Tensor:
    """Krizhevsky et al. (2012), Sec. 3.3, written out with loops."""
    batch, channels, height, width = a.shape
    b = torch.empty_like(a)
    for s in range(batch):
        for i in range(channels):
            for x in range(height):
                for y in range(width):
                    total = 0.0
                    for j in range(max(0, i - n // 2), min(channels - 1, i + n // 2) + 1):
                        total += float(a[s, j, x, y]) ** 2
                    b[s, i, x, y] = float(a[s, i, x, y]) / (k + alpha * total) ** beta
    return b


@pytest.mark.parametrize(
    ("n", "k", "alpha", "beta"), [(5, 2.0, 1e-4, 0.75), (3, 1.0, 0.05, 0.5), (7, 0.5, 0.2, 1.0)]
)
def test_lrn_matches_the_paper_equation(n, k, alpha, beta):
    a = torch.randn(2, 9, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(n)) * 5
    ours = LocalResponseNorm(size=n, alpha=alpha, beta=beta, k=k)(a)
    torch.testing.assert_close(ours, _lrn_by_hand(a, n, k, alpha, beta), rtol=1e-12, atol=1e-12)


def test_lrn_paper_constants_make_a_difference():
    # With large activations the normalisation is far from the identity (a check the test can fail).
    a = torch.full((1, 5, 1, 1), 100.0)
    expected = 100.0 / (2.0 + 1e-4 * 5 * 100.0**2) ** 0.75  # all five neighbours in the window
    assert LocalResponseNorm()(a)[0, 2, 0, 0].item() == pytest.approx(expected)


def test_lrn_equals_torch_with_alpha_times_n():
    a = torch.randn(3, 16, 5, 5, generator=torch.Generator().manual_seed(1)) * 10
    paper = LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(a)
    torch_lrn = nn.LocalResponseNorm(size=5, alpha=5 * 1e-4, beta=0.75, k=2.0)(a)
    torch.testing.assert_close(paper, torch_lrn)
    # Passing the paper's alpha straight to PyTorch normalises less.
    naive = nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=2.0)(a)
    assert not torch.allclose(paper, naive)


def test_lrn_rejects_bad_arguments():
    with pytest.raises(ValueError, match="^size"):
        LocalResponseNorm(size=0)
    with pytest.raises(ValueError, match="^x"):
        LocalResponseNorm()(torch.zeros(3, 4))


# --- Filter renormalisation --------------------------------------------------


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


# --- Small models --------------------------------------------------------------


def test_small_models_differ_only_in_the_first_layers():
    a, z = small_alexnet(), small_zfnet()
    conv_a = [m for m in a.features if isinstance(m, nn.Conv2d)]
    conv_z = [m for m in z.features if isinstance(m, nn.Conv2d)]
    assert (conv_a[0].kernel_size, conv_a[0].stride) == ((11, 11), (4, 4))
    assert (conv_z[0].kernel_size, conv_z[0].stride) == ((7, 7), (2, 2))
    assert (conv_a[1].stride, conv_z[1].stride) == ((1, 1), (2, 2))
    assert [c.out_channels for c in conv_a] == [c.out_channels for c in conv_z]
    assert [type(m) for m in a.features] == [type(m) for m in z.features]
    assert [type(m) for m in a.classifier] == [type(m) for m in z.classifier]
    # The same grid after the second pooling, as in the full networks (13 x 13 for both).
    sizes_a = _feature_sizes(a, 64, channels=1)
    sizes_z = _feature_sizes(z, 64, channels=1)
    assert sizes_a[0][1:] == (15, 15) and sizes_z[0][1:] == (30, 30)
    pools = [i for i, m in enumerate(a.features) if isinstance(m, nn.MaxPool2d)]
    assert sizes_a[pools[1]] == sizes_z[pools[1]]


def test_small_models_take_fashion_mnist_images():
    x = torch.rand(4, 1, 28, 28)
    assert small_alexnet()(x).shape == (4, 10)
    assert small_zfnet(num_classes=3)(x).shape == (4, 3)


# --- Layer tables ---------------------------------------------------------------


def test_layer_table_against_hand_counts():
    table = layer_table(alexnet("paper"), (3, 227, 227))
    conv1 = table.iloc[0]
    assert conv1["output shape"] == "96 x 55 x 55"
    assert conv1["parameters"] == (11 * 11 * 3 + 1) * 96
    # One multiply-add per weight per output position (torchinfo counts the bias add too).
    assert conv1["MACs"] == (11 * 11 * 3 + 1) * 96 * 55 * 55
    total = table.iloc[-1]
    assert total["layer"] == "total" and total["parameters"] == 60_965_224
    assert list(table.columns) == ["layer", "output shape", "parameters", "MACs"]


def test_layer_table_rejects_bad_input_size():
    with pytest.raises(ValueError, match="^input_size"):
        layer_table(small_zfnet(), 28)


# --- Shipped checkpoints -------------------------------------------------------


@pytest.mark.parametrize("name", ["small_alexnet", "small_zfnet"])
def test_shipped_checkpoints_load(name):
    model = load_pretrained(name)
    assert not model.training
    images, labels = cu.data.load_fashion_mnist("test", verbose=False).tensors()
    with torch.no_grad():
        accuracy = (model(images[:500]).argmax(1) == labels[:500]).float().mean().item()
    assert accuracy > 0.6  # trained: chance is 0.1


def test_checkpoint_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "small_zfnet.pt"
    torch.save(small_zfnet().state_dict(), bad)
    loaded = []
    monkeypatch.setattr(torch, "load", lambda *a, **k: loaded.append(1))
    with pytest.raises(ChecksumError, match="small_zfnet.*nothing was loaded"):
        load_pretrained("small_zfnet", path=bad)
    assert loaded == []


def test_load_pretrained_bad_name_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="^name"):
        load_pretrained("alexnet")
    with pytest.raises(FileNotFoundError, match="small_alexnet"):
        load_pretrained("small_alexnet", path=tmp_path / "missing.pt")


# --- Frequency analysis -----------------------------------------------------------


def test_filter_spectra_against_numpy():
    import numpy as np

    weight = torch.randn(4, 3, 7, 7, generator=torch.Generator().manual_seed(0))
    ours = filter_spectra(weight, size=16).numpy()
    w = weight.numpy().astype(np.float64)
    numpy_power = (np.abs(np.fft.fft2(w, s=(16, 16))) ** 2).sum(axis=1)
    np.testing.assert_allclose(ours, np.fft.fftshift(numpy_power, axes=(-2, -1)), rtol=1e-5)


def test_energy_above_on_a_flat_spectrum():
    # A one-pixel filter has a flat spectrum. On an 8-point grid the frequencies are
    # -0.5, -0.375, ..., 0.375; |f| <= 0.25 holds for 5 of them, so 25 of 64 points
    # are inside the square and 39 / 64 above the cutoff.
    delta = torch.zeros(1, 1, 3, 3)
    delta[0, 0, 1, 1] = 1.0
    power = filter_spectra(delta, size=8)
    torch.testing.assert_close(power, torch.ones(1, 8, 8))
    assert energy_above(power, 0.25).item() == pytest.approx(39 / 64)
    assert energy_above(power, 0.5).item() == 0.0


def _delta_zfnet() -> nn.Module:
    model = small_zfnet()  # stride 2: Nyquist 0.25 cycles/pixel after subsampling
    with torch.no_grad():
        model.features[0].weight.zero_()
        model.features[0].weight[:, 0, 3, 3] = 1.0  # every filter passes the image through
    return model


def test_first_layer_aliasing_of_a_delta_filter_is_the_images_own():
    import numpy as np

    model = _delta_zfnet()
    images = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    x = model.resize(images).numpy()[:, 0].astype(np.float64)
    x = x - x.mean(axis=(1, 2), keepdims=True)
    power = np.fft.fftshift((np.abs(np.fft.fft2(x)) ** 2).sum(axis=0))
    f = np.abs(np.fft.fftshift(np.fft.fftfreq(64)))
    above = np.maximum(f[:, None], f[None, :]) > 0.25
    expected = power[above].sum() / power.sum()
    assert first_layer_aliasing(model, images) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(("cycles", "expected"), [(20, 1.0), (8, 0.0)])
def test_first_layer_aliasing_of_pure_cosines(cycles, expected):
    # 64x64 images pass unresized. 20 cycles over 64 pixels = 0.3125 cycles/pixel, above
    # stride 2's Nyquist 0.25: all of it aliases; 8 cycles = 0.125: none of it does.
    x = torch.arange(64, dtype=torch.float64)
    image = 0.5 + 0.5 * torch.cos(2 * torch.pi * cycles * x / 64)
    images = image.expand(64, 64)[None, None].float()
    assert first_layer_aliasing(_delta_zfnet(), images) == pytest.approx(expected, abs=1e-6)


# --- torchvision's ImageNet weights -------------------------------------------------


def test_imagenet_alexnet_offline_prints_one_line(closed_port_url, tmp_path, capsys):
    url = closed_port_url + "alexnet-owt-7be5be79.pth"
    assert load_imagenet_alexnet(url, folder=tmp_path) is None
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Offline: skipped downloading")
    assert list(tmp_path.iterdir()) == []


def test_imagenet_alexnet_wrong_hash_prefix_is_refused(http_server, tmp_path):
    folder, base_url = http_server
    (folder / "alexnet-owt-7be5be79.pth").write_bytes(b"not the weights")
    cache = tmp_path / "cache"
    with pytest.raises(RuntimeError, match="invalid hash value"):
        load_imagenet_alexnet(base_url + "alexnet-owt-7be5be79.pth", folder=cache)
    assert list(cache.iterdir()) == []


def test_imagenet_top5_shapes_and_order():
    cu.seed_everything(0)
    model = alexnet("torchvision")  # random weights: only the plumbing is tested
    top5 = cu.models.imagenet_top5(model, cu.data.sample_photo("coffee"))
    names = cu.data.imagenet_class_names()
    assert len(top5) == 5 and all(name in names for name, _ in top5)
    probabilities = [p for _, p in top5]
    assert probabilities == sorted(probabilities, reverse=True) and 0 < sum(probabilities) <= 1
    with pytest.raises(ValueError, match="^photo"):
        cu.models.imagenet_top5(model, cu.data.sample_photo("coffee")[..., 0])


def test_aliased_fraction_by_stride():
    # 6 cycles over 64 pixels = 0.094 cycles/pixel: below stride 4's Nyquist (0.125), above stride 8's.
    x = torch.arange(64, dtype=torch.float64)
    maps = torch.cos(2 * torch.pi * 6 * x / 64).expand(64, 64)[None, None]
    assert cu.models.aliased_fraction(maps, 4) == pytest.approx(0.0, abs=1e-9)
    assert cu.models.aliased_fraction(maps, 8) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="^stride"):
        cu.models.aliased_fraction(maps, 0)


def test_layer_table_on_the_meta_device_matches_cpu():
    with torch.device("meta"):
        meta = small_zfnet()
    assert layer_table(meta, (1, 28, 28)).equals(layer_table(small_zfnet(), (1, 28, 28)))


def test_energy_above_rejects_empty_spectra():
    with pytest.raises(ValueError, match="^power must have some energy"):
        energy_above(torch.zeros(2, 8, 8), 0.25)
    with pytest.raises(TypeError, match="^power must be"):
        energy_above([[1.0]], 0.25)
