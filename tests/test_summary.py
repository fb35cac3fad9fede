"""Tests of course_utils.summary.layer_table against counts by hand from the papers."""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

from course_utils.models import alexnet, small_zfnet, zfnet
from course_utils.plotting import architecture_diagram
from course_utils.summary import layer_table, weight_layers

ROOT = Path(__file__).resolve().parents[1]


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


def chapter_text(notebook: str) -> str:
    """The markdown of a chapter, joined."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text("utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


def test_zfnet_extra_multiply_adds_by_hand():
    # Chapter 4's attribution, counted by hand from the papers' layer tables (Krizhevsky
    # et al. Sec. 3.5; Zeiler and Fergus Fig. 3): per output value, k*k*c_in/groups
    # multiply-adds plus one for the bias, as torchinfo counts them.
    def conv(k, c_in, c_out, side, groups=1):
        return (k * k * c_in // groups + 1) * c_out * side * side

    alex = [conv(11, 3, 96, 55), conv(5, 96, 256, 27, 2), conv(3, 256, 384, 13),
            conv(3, 384, 384, 13, 2), conv(3, 384, 256, 13, 2)]  # fmt: skip
    zf = [conv(7, 3, 96, 110), conv(5, 96, 256, 26), conv(3, 256, 384, 13),
          conv(3, 384, 384, 13), conv(3, 384, 256, 13)]  # fmt: skip
    fc = (256 * 6 * 6 + 1) * 4096 + (4096 + 1) * 4096 + (4096 + 1) * 1000
    with torch.device("meta"):
        tables = layer_table(alexnet("paper"), (3, 227, 227)), layer_table(zfnet(), (3, 224, 224))
    assert [t.iloc[-1]["MACs"] for t in tables] == [sum(alex) + fc, sum(zf) + fc]
    # Every number the chapter's prose gives for the difference, from the hand count.
    dense_conv2 = conv(5, 96, 256, 27)  # AlexNet's conv2 without its two groups
    split = [(zf[i] - alex[i]) for i in (1, 3, 4)]
    quoted = {
        "about {}% in ZFNet": round(((sum(zf) + fc) / (sum(alex) + fc) - 1) * 100, -1),
        "Of the {} million extra": (sum(zf) - sum(alex)) / 1e6,
        "{} million sit in conv2, conv4 and conv5": sum(split) / 1e6,
        "cost {} million on AlexNet's 27×27": dense_conv2 / 1e6,
        "costs {} million": zf[1] / 1e6,
        "add only {} million": (zf[0] - alex[0]) / 1e6,
        "about 0.{} G of the extra": (dense_conv2 - alex[1] + split[1] + split[2]) / 1e7,
        "about 0.0{} G net from the map sizes": (zf[0] - alex[0] + zf[1] - dense_conv2) / 1e7,
        "−{} million in conv2": (dense_conv2 - zf[1]) / 1e6,
    }
    prose = chapter_text("04_alexnet_vs_zfnet.ipynb")
    for phrase, value in quoted.items():
        assert phrase.format(round(value)) in prose, phrase.format(round(value))


def test_layer_table_rejects_bad_input_size():
    with pytest.raises(TypeError, match="^input_size"):
        layer_table(small_zfnet(), 28)
    with pytest.raises(ValueError, match="^input_size"):
        layer_table(small_zfnet(), (1, 0, 28))


def test_layer_table_on_the_meta_device_matches_cpu():
    with torch.device("meta"):
        meta = small_zfnet()
    assert layer_table(meta, (1, 28, 28)).equals(layer_table(small_zfnet(), (1, 28, 28)))


def test_weight_layers_match_the_papers():
    # Krizhevsky et al. (2012), Sec. 3.5 and Fig. 2: the kernels of conv2, conv4 and conv5
    # see only the maps on their own GPU; conv3 and the fully connected layers see all.
    paper = weight_layers(alexnet("paper"), (3, 227, 227))
    assert paper["name"].tolist() == [f"conv{i}" for i in range(1, 6)] + ["fc6", "fc7", "fc8"]
    assert paper["channels"].tolist() == [96, 256, 384, 384, 256, 4096, 4096, 1000]
    assert paper["height"].tolist()[:5] == [55, 27, 13, 13, 13]
    assert paper["groups"].tolist()[:5] == [1, 2, 1, 2, 2]
    assert paper["after"][0] == "ReLU, LRN, max pool 3x3/2, overlapping, to 27x27"
    # Zeiler & Fergus (2014), Fig. 3: 110 -> pooled 55, 26 -> pooled 13, 13, 13, 13 -> 6.
    zf = weight_layers(zfnet(), (3, 224, 224))
    assert zf["height"].tolist()[:5] == [110, 26, 13, 13, 13]
    assert zf[["kernel", "stride"]].values[:2].tolist() == [[7, 2], [5, 2]]
    assert "to 55x55" in zf["after"][0] and zf["after"][4].endswith("to 6x6")
    assert set(zf["groups"][:5]) == {1}


def test_architecture_diagram_joins_halves_only_where_the_paper_does():
    # AlexNet: conv1-conv2 half to half (2 lines), conv2-conv3 all to all (4), conv3-conv4
    # and conv4-conv5 half to half (2 each), both halves of conv5 into fc6 (2), then 1, 1.
    ax = architecture_diagram(alexnet("paper"), (3, 227, 227))
    assert len(ax.lines) == 2 + 4 + 2 + 2 + 2 + 1 + 1
    assert len(ax.patches) == 5 * 2 + 3
    ax = architecture_diagram(zfnet(), (3, 224, 224))  # one GPU: one box and one line each
    assert (len(ax.lines), len(ax.patches)) == (7, 8)
    plt.close("all")


def test_weight_layers_rejects_a_wrong_input_size():
    with pytest.raises(ValueError, match="^input_size"):
        weight_layers(small_zfnet(), (3, 64, 64))
