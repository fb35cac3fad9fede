"""Tests of course_utils.summary.layer_table against counts by hand from the papers."""

import pytest
import torch

from course_utils.models import alexnet, small_zfnet
from course_utils.summary import layer_table


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
    with pytest.raises(TypeError, match="^input_size"):
        layer_table(small_zfnet(), 28)
    with pytest.raises(ValueError, match="^input_size"):
        layer_table(small_zfnet(), (1, 0, 28))


def test_layer_table_on_the_meta_device_matches_cpu():
    with torch.device("meta"):
        meta = small_zfnet()
    assert layer_table(meta, (1, 28, 28)).equals(layer_table(small_zfnet(), (1, 28, 28)))
