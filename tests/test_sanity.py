"""Tests of course_utils.sanity against scipy.stats and hand-worked examples."""

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from course_utils import sanity


def test_ranks_match_scipy_rankdata_with_ties():
    values = torch.tensor(
        [[3.0, 0.0, 0.0, 1.0, 3.0, 3.0, -2.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]]
    )
    expected = np.stack([stats.rankdata(row) for row in values.numpy()])
    np.testing.assert_allclose(sanity.ranks(values).numpy(), expected)


def test_rank_correlation_matches_scipy_spearmanr():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(5, 2, 6, 6, generator=generator)
    b = a + torch.randn(5, 2, 6, 6, generator=generator)
    a[:, :, :2] = 0  # many ties, as outside a receptive field
    b[:, :, :3] = 0
    ours = sanity.rank_correlation(a, b)
    ours_abs = sanity.rank_correlation(a, b, absolute=True)
    for i in range(5):
        x, y = a[i].flatten().numpy(), b[i].flatten().numpy()
        assert ours[i].item() == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        expected = stats.spearmanr(np.abs(x), np.abs(y)).statistic
        assert ours_abs[i].item() == pytest.approx(expected, abs=1e-12)


def test_rank_correlation_by_hand():
    a = torch.tensor([[1.0, 2.0, 3.0]])
    assert sanity.rank_correlation(a, torch.tensor([[10.0, 20.0, 30.0]])).item() == pytest.approx(1)
    # ranks (1, 2, 3) and (1, 3, 2): 1 - 6 * (0 + 1 + 1) / (3 * 8) = 0.5
    assert sanity.rank_correlation(a, torch.tensor([[0.0, 9.0, 5.0]])).item() == pytest.approx(0.5)
    assert torch.isnan(sanity.rank_correlation(a, torch.zeros(1, 3))).all()  # constant map


def test_rank_correlation_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="a and b"):
        sanity.rank_correlation(torch.zeros(2, 4), torch.zeros(3, 4))


def _net():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1), nn.ReLU()
    )


def _gradient_of_unit(model, images):  # d(sum of map 0)/d(images)
    images = images.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(images)[:, 0].sum(), images)
    return grad


def test_cascading_randomization_randomises_cumulatively_on_a_copy():
    model = _net()
    model[0].weight.register_hook(lambda g: g)  # a hook of the caller's, kept
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    images = torch.rand(3, 1, 8, 8)
    table = sanity.cascading_randomization(model, images, _gradient_of_unit, ["2", "0"], seed=1)
    assert list(table["step"]) == [1, 1, 1, 2, 2, 2]
    assert list(table["randomised"]) == ["2"] * 3 + ["0"] * 3
    # the caller's model: same weights, same mode, no grads left behind
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key])
    assert model.training and all(p.grad is None for p in model.parameters())
    # step 1 equals re-initialising layer "2" by hand with the same seed
    by_hand = _net()
    by_hand.load_state_dict(before)
    torch.manual_seed(1)
    by_hand[2].reset_parameters()
    rho = sanity.rank_correlation(
        _gradient_of_unit(model, images), _gradient_of_unit(by_hand, images)
    )
    np.testing.assert_allclose(table["spearman"][:3], rho.numpy(), atol=1e-12)
    # and the global random state is left alone
    torch.manual_seed(5)
    expected = torch.rand(1)
    torch.manual_seed(5)
    sanity.cascading_randomization(model, images, _gradient_of_unit, ["2"])
    assert torch.equal(torch.rand(1), expected)


def test_cascading_randomization_rejects_layers_without_parameters():
    with pytest.raises(ValueError, match="reset_parameters"):
        sanity.cascading_randomization(_net(), torch.rand(1, 1, 8, 8), _gradient_of_unit, ["1"])
    with pytest.raises(ValueError, match="layers"):
        sanity.cascading_randomization(_net(), torch.rand(1, 1, 8, 8), _gradient_of_unit, ["9"])


def test_strongest_maps_by_hand():
    net = nn.Sequential(nn.Conv2d(1, 3, 1, bias=False))
    net[0].weight.data = torch.tensor([1.0, -1.0, 2.0]).view(3, 1, 1, 1)
    images = torch.zeros(2, 1, 2, 3)
    images[0, 0, 1, 2] = 1.0  # map 2 reaches 2, map 0 reaches 1, map 1 only 0 (elsewhere)
    images[1, 0, 0, 1] = -1.0  # map 1 reaches 1 at (0, 1)
    table = sanity.strongest_maps(net, images, "0", k=2)
    assert table["channel"].tolist() == [2, 0, 1, 0]
    assert table[["row", "column"]].values[:2].tolist() == [[1, 2], [1, 2]]
    assert table[["row", "column"]].values[2].tolist() == [0, 1]
    assert table["activation"].tolist() == [2.0, 1.0, 1.0, 0.0]
    assert table.attrs["layer"] == "0"
    with pytest.raises(ValueError, match="k must be"):
        sanity.strongest_maps(net, images, "0", k=4)


def test_group_similarity_by_hand_and_against_scipy():
    maps = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0], [3.0, 1.0, 2.0]])
    cos = sanity.group_similarity(maps, ["a", "a", "a", "b"][:3] + ["a"], measure="cosine")
    flat = maps.numpy()
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    expected = np.mean(
        [flat[i] @ flat[j] / np.linalg.norm(flat[i]) / np.linalg.norm(flat[j]) for i, j in pairs]
    )
    assert cos["a"] == pytest.approx(expected)
    rho = sanity.group_similarity(maps, [0, 0, 1, 1], measure="spearman")
    assert rho[1] == pytest.approx(stats.spearmanr(flat[2], flat[3]).statistic)
    with pytest.raises(ValueError, match="at least two"):
        sanity.group_similarity(maps, [0, 0, 0, 1])


def test_group_similarity_takes_a_table_column_and_refuses_none():
    import pandas as pd

    maps = torch.rand(4, 1, 3, 3, generator=torch.Generator().manual_seed(0))
    column = pd.Series([0, 0, 1, 1], name="channel")
    from_column = sanity.group_similarity(maps, column)
    from_list = sanity.group_similarity(maps, [0, 0, 1, 1])
    assert from_column.tolist() == from_list.tolist()
    with pytest.raises(TypeError, match="groups must be M labels"):
        sanity.group_similarity(maps, None)
