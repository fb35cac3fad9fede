"""course_utils.plotting: the course's figure helpers."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.plotting import draw_box, mosaic, show_images


def test_draw_box_covers_exactly_the_box():
    fig, ax = plt.subplots()
    patch = draw_box(ax, (10, 20, 40, 25), "red", "a box", fill=False)
    assert patch.get_xy() == (10, 20) and patch.get_width() == 30 and patch.get_height() == 5
    assert patch.get_label() == "a box" and not patch.get_fill()
    plt.close(fig)


@pytest.mark.parametrize("box", [(0, 0, 1), (5, 0, 1, 1), (0, 5, 1, 1)])
def test_draw_box_rejects_bad_boxes(box):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="^box must"):
        draw_box(ax, box, "red")
    plt.close(fig)


def test_show_images_grid_and_titles():
    images = np.zeros((5, 1, 8, 8), dtype=np.float32)
    fig = show_images(images, titles=list("abcde"), ncols=3, title="five")
    shown = [ax for ax in fig.axes if ax.images]
    assert len(fig.axes) == 6 and len(shown) == 5
    assert [ax.get_title() for ax in shown] == list("abcde")
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"images": np.zeros((0, 8, 8))}, "^images must"),
        ({"titles": ["a"]}, "^titles must"),
        ({"ncols": 0}, "^ncols must"),
    ],
)
def test_show_images_bad_input(kwargs, message):
    args = {"images": np.zeros((2, 8, 8)), **kwargs}
    with pytest.raises(ValueError, match=message):
        show_images(**args)


def test_mosaic_by_hand():
    # Two grey 2x2 tiles side by side, one white pixel between them.
    images = np.array([[[[0.0, 1.0], [2.0, 4.0]]], [[[5.0, 5.0], [5.0, 5.0]]]])
    expected = np.array([[0.0, 0.25, 1.0, 0.0, 0.0], [0.5, 1.0, 1.0, 0.0, 0.0]])
    np.testing.assert_allclose(mosaic(images, ncols=2), expected)
    # Signed: zero is mid-grey; |values| scaled by their 99th percentile (2 here).
    signed = mosaic(np.array([[[[-2.0, 0.0], [1.0, 2.0]]]]), signed=True)
    np.testing.assert_allclose(signed, [[0.0, 0.5], [0.75, 1.0]])
    assert mosaic(np.zeros((1, 2, 2)), signed=True).tolist() == [[0.5, 0.5]] * 2  # (N, H, W)
    # Colour tiles, three per row: 4 tiles make 2 rows, the last row's gap stays white.
    colour = mosaic(np.random.default_rng(0).random((4, 3, 5, 6)), ncols=3, gap=2)
    assert colour.shape == (2 * 5 + 2, 3 * 6 + 2 * 2, 3)
    assert (colour[7:, 8:] == 1.0).all()


def test_mosaic_rejects_bad_input():
    with pytest.raises(ValueError, match="^images"):
        mosaic(np.zeros((2, 2, 4, 4)))
    with pytest.raises(ValueError, match="^images"):
        mosaic(np.zeros((0, 4, 4)))
    with pytest.raises(ValueError, match="^ncols"):
        mosaic(np.zeros((2, 1, 4, 4)), ncols=0)
