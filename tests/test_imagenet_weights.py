"""torchvision's ImageNet AlexNet weights, without network: a local server or file:// URLs.

A tiny stand-in (``nn.Linear``) replaces AlexNet, so the served files are small; what is
tested is the fetching, the hash check, the messages, and that no file is ever deleted.
"""

import hashlib
import io

import numpy as np
import pytest
import torch
from torch import nn

import course_utils as cu
from course_utils.download import ChecksumError
from course_utils.models import imagenet_top5, load_imagenet_alexnet


@pytest.fixture
def tiny_alexnet(monkeypatch):
    """AlexNet replaced by nn.Linear(2, 1); returns the bytes of a state dict for it."""
    monkeypatch.setattr(cu.models, "alexnet", lambda variant: nn.Linear(2, 1))
    buffer = io.BytesIO()
    torch.save(nn.Linear(2, 1).state_dict(), buffer)
    return buffer.getvalue()


def _hash_named(folder, payload: bytes, stem="alexnet-owt"):
    """Write ``payload`` under a torchvision-style name: its own SHA-256 prefix."""
    path = folder / f"{stem}-{hashlib.sha256(payload).hexdigest()[:8]}.pth"
    path.write_bytes(payload)
    return path


def test_default_url_is_torchvisions():
    url = cu.models.IMAGENET_ALEXNET_URL
    assert url == "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"


def test_offline_prints_one_line_and_keeps_nothing(closed_port_url, tmp_path, capsys):
    url = closed_port_url + "alexnet-owt-7be5be79.pth"
    assert load_imagenet_alexnet(url, folder=tmp_path) is None
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Offline: skipped the ImageNet AlexNet weights")
    assert list(tmp_path.iterdir()) == []


def test_download_is_hash_checked_cached_and_loaded(
    http_server, closed_port_url, tmp_path, tiny_alexnet, capsys
):
    served, base_url = http_server
    name = _hash_named(served, tiny_alexnet).name
    cache = tmp_path / "cache"
    model = load_imagenet_alexnet(base_url + name, folder=cache)
    assert isinstance(model, nn.Linear) and not model.training
    assert torch.equal(model.weight, torch.load(served / name, weights_only=True)["weight"])
    assert (
        capsys.readouterr().out.strip()
        == f"Downloaded the ImageNet AlexNet weights to {cache / name}."
    )
    assert [p.name for p in cache.iterdir()] == [name]
    # Offline now: the cached file is used, nothing is printed.
    assert isinstance(load_imagenet_alexnet(closed_port_url + name, folder=cache), nn.Linear)
    assert capsys.readouterr().out == ""


def test_wrong_hash_prefix_is_refused_and_nothing_kept(http_server, tmp_path):
    served, base_url = http_server
    (served / "alexnet-owt-7be5be79.pth").write_bytes(b"not the weights")
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="invalid hash value"):
        load_imagenet_alexnet(base_url + "alexnet-owt-7be5be79.pth", folder=cache)
    assert list(cache.iterdir()) == []


def test_a_name_without_hash_prefix_is_refused(tmp_path):
    with pytest.raises(ValueError, match="^url must .* SHA-256 prefix"):
        load_imagenet_alexnet("https://example.org/alexnet.pth", folder=tmp_path)


def test_the_users_own_file_named_like_a_hash_is_never_deleted(tmp_path, capsys):
    """Issue 24: the date in the name read as a hash prefix, and the file was deleted."""
    own = tmp_path / "alexnet-finetuned-20240101.pth"
    own.write_bytes(b"the user's own fine-tuned weights, in some format")
    with pytest.raises(ValueError, match="delete it") as error:
        load_imagenet_alexnet(own.as_uri(), folder=tmp_path)
    assert str(own) in str(error.value) and "weights_only=False" not in str(error.value)
    assert own.read_bytes() == b"the user's own fine-tuned weights, in some format"


@pytest.mark.parametrize("damage", [b"garbage" * 1000, b""], ids=["garbage", "empty"])
def test_a_damaged_file_in_the_folder_is_named_not_deleted(damage, closed_port_url, tmp_path):
    """Issue 24: a folder holding the user's own alexnet-owt-7be5be79.pth lost it, offline."""
    cached = tmp_path / "alexnet-owt-7be5be79.pth"
    cached.write_bytes(damage)
    with pytest.raises(ValueError, match="delete it"):
        load_imagenet_alexnet(closed_port_url + cached.name, folder=tmp_path)
    assert cached.read_bytes() == damage


def test_weights_of_another_model_are_refused_clearly(tmp_path, closed_port_url, tiny_alexnet):
    buffer = io.BytesIO()
    torch.save(nn.Linear(3, 1).state_dict(), buffer)  # the wrong shapes
    cached = _hash_named(tmp_path, buffer.getvalue())
    with pytest.raises(ValueError, match="not a file of AlexNet weights"):
        load_imagenet_alexnet(closed_port_url + cached.name, folder=tmp_path)
    assert cached.exists()


def test_a_folder_that_cannot_be_created_is_named(tmp_path, closed_port_url):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with pytest.raises(ValueError, match="^folder="):
        load_imagenet_alexnet(closed_port_url + "alexnet-owt-7be5be79.pth", folder=blocker / "w")
    assert blocker.read_text() == "in the way"


# --- imagenet_top5 ---------------------------------------------------------------------


def _tiny_imagenet_model():
    """A stand-in with ImageNet's 1000 outputs, a BatchNorm and a Dropout (mode-dependent)."""
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(4),
        nn.Flatten(),
        nn.BatchNorm1d(48),
        nn.Dropout(0.5),
        nn.Linear(48, 1000),
    )


def _probabilities(model, photo):
    x = cu.models.AlexNet_Weights.IMAGENET1K_V1.transforms()(
        torch.from_numpy(photo).permute(2, 0, 1)
    )
    with torch.no_grad():
        return model.eval()(x[None].to(model[-1].weight.dtype))[0].double().softmax(0)


def test_imagenet_top5_against_a_direct_computation():
    torch.manual_seed(0)
    model = _tiny_imagenet_model().eval()
    photo = cu.data.sample_photo("coffee")
    top5 = imagenet_top5(model, photo)
    expected = _probabilities(model, photo).topk(5)
    names = cu.data.imagenet_class_names()
    assert [n for n, _ in top5] == [names[i] for i in expected.indices]
    np.testing.assert_allclose([p for _, p in top5], expected.values, rtol=1e-5)
    with pytest.raises(ValueError, match="^photo"):
        imagenet_top5(model, photo[..., 0])


def test_imagenet_top5_leaves_every_submodule_mode_as_found():
    torch.manual_seed(0)
    model = _tiny_imagenet_model().train()
    model[2].eval()  # a BatchNorm the caller froze; the Dropout stays in train mode
    modes = [m.training for m in model.modules()]
    imagenet_top5(model, cu.data.sample_photo("coffee"))
    assert [m.training for m in model.modules()] == modes


def test_imagenet_top5_follows_the_models_dtype():
    torch.manual_seed(0)
    model = _tiny_imagenet_model().double().eval()
    photo = cu.data.sample_photo("coffee")
    top5 = imagenet_top5(model, photo)
    np.testing.assert_allclose([p for _, p in top5], _probabilities(model, photo).topk(5).values)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_imagenet_top5_on_cuda():
    torch.manual_seed(0)
    model = _tiny_imagenet_model().eval()
    photo = cu.data.sample_photo("coffee")
    on_cpu = imagenet_top5(model, photo)
    on_gpu = imagenet_top5(model.cuda(), photo)
    assert [n for n, _ in on_gpu] == [n for n, _ in on_cpu]
    np.testing.assert_allclose([p for _, p in on_gpu], [p for _, p in on_cpu], rtol=1e-4)
    assert next(model.parameters()).is_cuda
