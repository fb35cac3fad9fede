"""scripts/train_imagenet.py (course_utils.imagenet_training): the papers' recipes at full scale.

No GPU and no ImageNet here: a tiny ImageFolder tree of generated JPEGs, trained for a few
steps under ``torchrun --standalone --nproc_per_node=2`` with gloo on the CPU.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
from PIL import Image

import course_utils as cu
from course_utils import imagenet_training as it

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_imagenet.py"
CLASSES = ("n00000001", "n00000002", "n00000003")
COLOURS = ((200, 40, 40), (40, 40, 200), (40, 200, 40))


def _make_tree(root: Path, train: int = 16, val: int = 6) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", train), ("val", val)):
        for name, colour in zip(CLASSES, COLOURS, strict=True):
            folder = root / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                pixels = np.clip(rng.normal(colour, 40, (40, 48, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return _make_tree(tmp_path_factory.mktemp("imagefolder"))


SMALL = ["--arch", "torchvision:resnet18", "--crop", "32", "--batch-size", "8",
         "--workers", "0", "--lr", "0.01"]  # fmt: skip


def _torchrun(tree: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone",
               "--nproc-per-node=2", str(SCRIPT), "--data", str(tree), "--out", str(out),
               *SMALL, *extra]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def two_epochs(tree, tmp_path_factory):
    """Two epochs on two processes, uninterrupted."""
    out = tmp_path_factory.mktemp("run")
    _torchrun(tree, out, "--epochs", "2", "--debug-dir", str(out / "debug"))
    return out


# --- the recipes: every value is the one its quoted sentence writes -------------------


@pytest.mark.parametrize("preset", sorted(it.PRESETS))
def test_each_preset_value_is_written_in_its_sentence(preset):
    recipe = it.PRESETS[preset]
    assert recipe.sources, preset
    for field, (sentence, written) in recipe.sources.items():
        assert written in sentence, (preset, field, written, sentence)
        value = getattr(recipe, field)
        if field == "bias_one":  # the sentence gives the constant; the layers are listed
            assert value and all(isinstance(name, str) for name in value)
            continue
        assert float(value) == pytest.approx(it.parse_value(written)), (preset, field)


def test_alexnet_bias_one_layers_are_the_papers():
    # conv2, conv4, conv5 and the two hidden fully connected layers of AlexNetPaper.
    model = cu.models.AlexNetPaper()
    named = dict(model.named_modules())
    convs = [n for n, m in named.items() if isinstance(m, torch.nn.Conv2d)]
    linears = [n for n, m in named.items() if isinstance(m, torch.nn.Linear)]
    expected = (convs[1], convs[3], convs[4], linears[0], linears[1])
    assert it.PRESETS["alexnet"].bias_one == expected


def test_renormalisation_only_in_zfnets_recipe():
    assert it.PRESETS["zfnet"].max_filter_rms == 0.1
    assert it.PRESETS["alexnet"].max_filter_rms is None


# --- bad input: one clear error before any process starts -----------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t, o: ["--data", str(o)], "not an ImageFolder tree"),
        (lambda t, o: ["--data", str(t), "--num-classes", "1000"], "does not match the 3"),
        (lambda t, o: ["--data", str(t), "--preset", "vgg"], "--preset must be one of"),
        (lambda t, o: ["--data", str(t), "--arch", "torchvision:nope"], "no classification"),
        (lambda t, o: ["--data", str(t), "--batch-size", "7", "--nproc-per-node", "2"],
         "divide evenly"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_any_process(tree, tmp_path, capsys, change, message):
    (tmp_path / "empty").mkdir()
    argv = [*change(tree, tmp_path / "empty"), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as stop:
        it.main(argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err
    assert not dist.is_initialized()
    assert not (tmp_path / "out").exists()


def test_a_class_folder_without_images_is_named(tmp_path):
    (tmp_path / "train" / "cats").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"\['cats'\].*hold no image files"):
        it.check_image_folder(tmp_path / "train", "train")


# --- two processes, gloo, CPU --------------------------------------------------------


def _debug(out: Path, epoch: int, rank: int) -> tuple[str, list[int]]:
    checksum, indices = (out / "debug" / f"epoch{epoch}-rank{rank}.txt").read_text().split("\n")[:2]
    return checksum, [int(i) for i in indices.split()]


def test_both_ranks_hold_identical_weights(two_epochs):
    for epoch in (1, 2):
        assert _debug(two_epochs, epoch, 0)[0] == _debug(two_epochs, epoch, 1)[0]


def test_the_sampler_gives_disjoint_shards(two_epochs):
    for epoch in (1, 2):
        first, second = _debug(two_epochs, epoch, 0)[1], _debug(two_epochs, epoch, 1)[1]
        assert len(first) == len(second) == 24  # 48 images, 2 processes, 3 steps of 4
        assert not set(first) & set(second)
        assert set(first) | set(second) == set(range(48))
    assert _debug(two_epochs, 1, 0)[1] != _debug(two_epochs, 2, 0)[1]  # reshuffled


def test_the_loss_decreases_and_the_log_is_a_table(two_epochs):
    import pandas as pd

    log = pd.read_csv(two_epochs / "log.csv")
    assert list(log["epoch"]) == [1, 2]
    assert log["train_loss"].iloc[1] < log["train_loss"].iloc[0]
    assert log[["val_top1_error", "val_top5_error"]].apply(lambda c: c.between(0, 1)).all().all()


def test_resume_after_a_stop_reproduces_the_next_epoch_bit_for_bit(tree, two_epochs, tmp_path):
    out = tmp_path / "resumed"
    _torchrun(tree, out, "--epochs", "1")
    first = torch.load(out / "checkpoint.pt", weights_only=True)
    assert first["epoch"] == 1
    _torchrun(tree, out, "--epochs", "2", "--resume")
    resumed = torch.load(out / "checkpoint.pt", weights_only=True)
    straight = torch.load(two_epochs / "checkpoint.pt", weights_only=True)
    assert resumed["epoch"] == straight["epoch"] == 2
    for name, tensor in straight["model"].items():
        assert torch.equal(resumed["model"][name], tensor), name
    assert resumed["history"][1]["train_loss"] == straight["history"][1]["train_loss"]


def test_a_failed_checkpoint_write_keeps_the_previous_one(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    it.save_atomically({"epoch": 1}, path)

    def broken_save(obj, target):
        Path(target).write_bytes(b"half a checkpoint")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="No space"):
        it.save_atomically({"epoch": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=True) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


# --- the checkpoint in the chapters' helpers ----------------------------------------


def test_load_checkpoint_gives_a_model_the_chapters_helpers_take(two_epochs, tree):
    model = cu.models.load_checkpoint(two_epochs / "checkpoint.pt")
    assert not model.training
    assert model.class_names == list(CLASSES)
    saved = torch.load(two_epochs / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(model.state_dict()[k], v) for k, v in saved.items())
    images = torch.rand(2, 3, 32, 32)
    table = cu.receptive_field.receptive_field(model, (3, 32, 32))
    assert len(table) > 10
    occlusion = cu.occlusion.occlusion_attribution(
        model, images, target=torch.tensor([0, 1]), window=8, stride=8
    )
    assert occlusion.shape == images.shape


def test_load_checkpoint_of_a_paper_network_runs_the_deconvnet(tmp_path):
    model = cu.models.zfnet(num_classes=3)
    torch.save({"arch": "zfnet", "num_classes": 3, "model": model.state_dict()},
               tmp_path / "c.pt")  # fmt: skip
    loaded = cu.models.load_checkpoint(tmp_path / "c.pt")
    images = torch.rand(1, 3, 224, 224)
    pixels = cu.deconvnet.DeconvNet(loaded).project(images, "features.0", channel=0)
    assert pixels.shape == images.shape


def test_load_checkpoint_refuses_other_files(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="needs the keys"):
        cu.models.load_checkpoint(tmp_path / "other.pt")
    (tmp_path / "text.pt").write_text("not a checkpoint")
    with pytest.raises(ValueError, match="weights_only"):
        cu.models.load_checkpoint(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError, match="path"):
        cu.models.load_checkpoint(tmp_path / "missing.pt")


def test_by_name_refuses_unknown_networks():
    with pytest.raises(ValueError, match=re.escape("'torchvision:NAME'")):
        cu.models.by_name("vgg")
