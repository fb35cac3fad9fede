"""Training AlexNet and ZFNet at the papers' scale: ImageNet, ``torchrun``, DistributedDataParallel.

The chapters teach with networks sized for a laptop CPU. This module is for the
student or instructor who wants the real thing: :class:`~course_utils.models.AlexNetPaper`
or :class:`~course_utils.models.ZFNet` (or any torchvision classifier) trained on
an ImageFolder tree such as ImageNet's ``train/`` and ``val/``, with the papers'
recipes. ``scripts/train_imagenet.py`` is its command line; the book's page
"Reproducing the papers at full scale" says how to run it and what it costs.

The engine is PyTorch's own, nothing hand-made:

* ``torchrun`` starts one process per GPU (or per CPU worker); each reads its
  rank from the environment. NCCL connects GPUs, gloo connects CPUs.
* :class:`torch.nn.parallel.DistributedDataParallel` averages the gradients of
  every process after each backward pass, so every process holds the same
  weights after every step. Each process sees ``batch_size / world_size`` images
  per step; the step is the paper's step of ``batch_size`` images.
* :class:`torch.utils.data.distributed.DistributedSampler` gives each process
  its own, disjoint shard of the shuffled training set, reshuffled every epoch.

Reproducibility: everything random in epoch ``e`` (the shuffle, the crops and
flips, the PCA colour draws, dropout) is drawn from generators seeded by
``(seed, e, rank)``, and a checkpoint written (atomically) after every epoch
holds the weights, the optimiser, the learning-rate schedule and the loss
scaler. A run resumed from the checkpoint of epoch ``e`` therefore gives the
same epoch ``e + 1`` as the run that was never interrupted, bit for bit on the
CPU with ``num_workers=0`` (tested); on GPUs, cuDNN's algorithm choice can make
the last bits differ.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.distributed.run import main as torchrun
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2 as T
from tqdm.auto import tqdm

from . import augment, models
from ._files import atomic_write
from .metrics import topk_accuracy
from .train import renormalize_filters_

__all__ = ["PRESETS", "main"]

#: File name endings that torchvision's ImageFolder reads as images.
IMAGE_EXTENSIONS = torchvision.datasets.folder.IMG_EXTENSIONS

#: Per-channel mean and standard deviation of ImageNet's training pixels (RGB, in [0, 1]),
#: the values torchvision's ImageNet weights use. The papers subtract the mean *image*
#: ("subtracting the mean activity over the training set from each pixel"); one mean per
#: channel is the common simplification and is what this module does.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Recipe:
    """One paper's training recipe. ``sources`` quotes, per field, the sentence it comes from."""

    arch: str
    epochs: int
    batch_size: int
    lr: float
    momentum: float
    weight_decay: float
    lr_factor: float
    resize: int
    crop: int
    pca_std: float
    max_filter_rms: float | None
    init_std: float
    bias_one: tuple[str, ...]
    sources: dict[str, tuple[str, str]]


#: The papers' recipes. ``sources[field] = (sentence, value as the sentence writes it)``;
#: ``tests/test_imagenet_training.py`` checks that each value is written in its sentence
#: and equals the recipe's field.
PRESETS: dict[str, Recipe] = {
    "alexnet": Recipe(
        arch="alexnet_paper",
        epochs=90,
        batch_size=128,
        lr=0.01,
        momentum=0.9,
        weight_decay=0.0005,
        lr_factor=0.1,
        resize=256,
        crop=227,
        pca_std=0.1,
        max_filter_rms=None,
        init_std=0.01,
        bias_one=("features.4", "features.10", "features.12", "classifier.1", "classifier.4"),
        sources={
            "epochs": (
                "Krizhevsky et al. 2012, Sec. 5: 'We trained the network for roughly 90 cycles "
                "through the training set of 1.2 million images'",
                "90",
            ),
            "batch_size": (
                "Sec. 5: 'We trained our models using stochastic gradient descent with a batch "
                "size of 128 examples, momentum of 0.9, and weight decay of 0.0005.'",
                "128",
            ),
            "momentum": ("Sec. 5: '... momentum of 0.9, and weight decay of 0.0005.'", "0.9"),
            "weight_decay": (
                "Sec. 5: '... momentum of 0.9, and weight decay of 0.0005.'",
                "0.0005",
            ),
            "lr": (
                "Sec. 5: 'The learning rate was initialized at 0.01 and reduced three times "
                "prior to termination.'",
                "0.01",
            ),
            "lr_factor": (
                "Sec. 5: 'divide the learning rate by 10 when the validation error rate stopped "
                "improving with the current learning rate' (factor 1/10)",
                "1/10",
            ),
            "resize": (
                "Sec. 2: 'we first rescaled the image such that the shorter side was of length "
                "256, and then cropped out the central 256x256 patch'",
                "256",
            ),
            "crop": (
                "Sec. 4.1 says 224x224 patches; the layer sizes of Sec. 3.5 need 227x227 "
                "(chapter 4), so AlexNetPaper takes 227",
                "227",
            ),
            "pca_std": (
                "Sec. 4.1: 'a random variable drawn from a Gaussian with mean zero and standard "
                "deviation 0.1'",
                "0.1",
            ),
            "init_std": (
                "Sec. 5: 'We initialized the weights in each layer from a zero-mean Gaussian "
                "distribution with standard deviation 0.01.'",
                "0.01",
            ),
            "bias_one": (
                "Sec. 5: 'We initialized the neuron biases in the second, fourth, and fifth "
                "convolutional layers, as well as in the fully-connected hidden layers, with "
                "the constant 1.'",
                "1",
            ),
        },
    ),
    "zfnet": Recipe(
        arch="zfnet",
        epochs=70,
        batch_size=128,
        lr=0.01,
        momentum=0.9,
        weight_decay=0.0005,
        lr_factor=0.1,
        resize=256,
        crop=224,
        pca_std=0.0,
        max_filter_rms=0.1,
        init_std=0.01,
        bias_one=(),
        sources={
            "epochs": (
                "Zeiler & Fergus 2014, Sec. 3: 'We stopped training after 70 epochs'",
                "70",
            ),
            "batch_size": (
                "Sec. 3: 'Stochastic gradient descent with a mini-batch size of 128 was used to "
                "update the parameters, starting with a learning rate of 10^-2, in conjunction "
                "with a momentum term of 0.9.'",
                "128",
            ),
            "lr": ("Sec. 3: '... starting with a learning rate of 10^-2 ...'", "10^-2"),
            "momentum": ("Sec. 3: '... in conjunction with a momentum term of 0.9.'", "0.9"),
            "weight_decay": (
                "NOT in Zeiler & Fergus (no weight decay is mentioned): Krizhevsky et al.'s "
                "0.0005, which ZF's training otherwise follows",
                "0.0005",
            ),
            "lr_factor": (
                "Sec. 3: 'We anneal the learning rate throughout training manually when the "
                "validation error plateaus.' (no factor given: AlexNet's 1/10)",
                "1/10",
            ),
            "resize": (
                "Sec. 3: 'resizing the smallest dimension to 256, cropping the center 256x256 "
                "region'",
                "256",
            ),
            "crop": ("Sec. 3: '10 different sub-crops of size 224x224'", "224"),
            "pca_std": (
                "Sec. 3: 'As in (Krizhevsky et al., 2012), we produce multiple different crops "
                "and flips of each training example' (no colour noise: standard deviation 0)",
                "0",
            ),
            "max_filter_rms": (
                "Sec. 3: 'We renormalize each filter in the convolutional layers whose RMS value "
                "exceeds a fixed radius of 10^-1 to this fixed radius.'",
                "10^-1",
            ),
            "init_std": (
                "Sec. 3: 'All weights are initialized to 10^-2 and biases are set to 0.' "
                "(read as a Gaussian of standard deviation 10^-2)",
                "10^-2",
            ),
        },
    ),
}

# What a run of a torchvision model uses: the AlexNet recipe, its own initialisation.
_TORCHVISION_PREFIX = "torchvision:"


def parse_value(text: str) -> float:
    """A number as the papers write it: ``"0.0005"``, ``"10^-2"``, ``"1/10"``."""
    if "^" in text:
        base, exponent = text.split("^")
        return float(base) ** float(exponent)
    if "/" in text:
        numerator, denominator = text.split("/")
        return float(numerator) / float(denominator)
    return float(text)


# ---------------------------------------------------------------------------------------
# Checks, done before any process starts
# ---------------------------------------------------------------------------------------


def check_image_folder(folder: str | os.PathLike, name: str) -> list[str]:
    """The class names of ImageFolder tree ``folder``, or a ``ValueError`` that says what is wrong.

    An ImageFolder tree has one sub-folder per class, each holding at least one image
    file (``.jpg``, ``.png``, ... as torchvision's ImageFolder reads them).
    """
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(
            f"{name}: {path} is not an ImageFolder tree (no such folder; expected "
            f"{path}/<class>/<image>.jpg, as ImageNet's train/ and val/ are laid out)"
        )
    classes = sorted(entry.name for entry in path.iterdir() if entry.is_dir())
    if not classes:
        raise ValueError(
            f"{name}: {path} is not an ImageFolder tree (no class sub-folders; expected "
            f"{path}/<class>/<image>.jpg, as ImageNet's train/ and val/ are laid out)"
        )
    empty = [c for c in classes if not any(_is_image(f) for f in (path / c).rglob("*"))]
    if empty:
        raise ValueError(
            f"{name}: class folder(s) {empty[:5]} in {path} hold no image files "
            f"({', '.join(IMAGE_EXTENSIONS[:4])}, ...)"
        )
    return classes


def _is_image(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(IMAGE_EXTENSIONS)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read and check the command line; every error is raised here, before any process starts."""
    parser = argparse.ArgumentParser(
        prog="train_imagenet.py",
        description="Train AlexNet or ZFNet on an ImageFolder tree (ImageNet) with torchrun.",
    )
    parser.add_argument(
        "--preset", default="alexnet", help="alexnet or zfnet (the papers' recipes)"
    )
    parser.add_argument("--data", required=True, help="folder holding train/ and val/ ImageFolders")
    parser.add_argument("--out", required=True, help="folder for checkpoint.pt and log.csv")
    parser.add_argument(
        "--arch",
        help="override the preset's network: alexnet_paper, zfnet or "
        "torchvision:NAME (e.g. torchvision:resnet18)",
    )
    parser.add_argument("--num-classes", type=int, help="expected number of classes (checked)")
    parser.add_argument("--epochs", type=int, help="override the preset's epochs")
    parser.add_argument("--batch-size", type=int, help="images per step, all processes together")
    parser.add_argument("--lr", type=float, help="override the preset's initial learning rate")
    parser.add_argument("--crop", type=int, help="override the crop size (and --resize with it)")
    parser.add_argument("--resize", type=int, help="override the short side before cropping")
    parser.add_argument(
        "--patience",
        type=int,
        default=2,
        help="epochs without a better validation error before lr *= factor",
    )
    parser.add_argument("--workers", type=int, default=8, help="data-loading processes per rank")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--amp",
        choices=("auto", "on", "off"),
        default="auto",
        help="mixed precision (auto: on where the device supports it)",
    )
    parser.add_argument("--channels-last", choices=("auto", "on", "off"), default="auto")
    parser.add_argument(
        "--ten-crop",
        action="store_true",
        help="also report the papers' 10-crop error after the last epoch",
    )
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    parser.add_argument(
        "--max-steps",
        type=int,
        help="stop each epoch after this many steps (smoke tests, class projects)",
    )
    parser.add_argument(
        "--nproc-per-node",
        type=int,
        default=1,
        help="without torchrun: start this many processes (torchrun --standalone)",
    )
    parser.add_argument(
        "--debug-dir",
        help="each rank writes the indices it saw and a checksum "
        "of its weights here after every epoch (tests)",
    )
    args = parser.parse_args(argv)
    if args.preset not in PRESETS:
        parser.error(f"--preset must be one of {sorted(PRESETS)}, got {args.preset!r}")
    recipe = PRESETS[args.preset]
    arch = args.arch or recipe.arch
    if arch not in ("alexnet_paper", "zfnet") and not arch.startswith(_TORCHVISION_PREFIX):
        parser.error(f"--arch must be alexnet_paper, zfnet or torchvision:NAME, got {arch!r}")
    if arch.startswith(_TORCHVISION_PREFIX):
        name = arch[len(_TORCHVISION_PREFIX) :]
        if name not in torchvision.models.list_models(module=torchvision.models):
            parser.error(f"--arch {arch!r}: torchvision has no classification model {name!r}")
    for option in ("epochs", "batch_size", "crop", "resize", "workers", "nproc_per_node"):
        value = getattr(args, option)
        if value is not None and value < (0 if option == "workers" else 1):
            parser.error(f"--{option.replace('_', '-')} must be positive, got {value}")
    data = Path(args.data)
    try:
        train_classes = check_image_folder(data / "train", "--data train/")
        val_classes = check_image_folder(data / "val", "--data val/")
    except ValueError as err:
        parser.error(str(err))
    if train_classes != val_classes:
        only = sorted(set(train_classes) ^ set(val_classes))[:5]
        parser.error(f"--data: train/ and val/ must have the same class folders; differ in {only}")
    if args.num_classes is not None and args.num_classes != len(train_classes):
        parser.error(
            f"--num-classes {args.num_classes} does not match the {len(train_classes)} class "
            f"folders of {data / 'train'}"
        )
    world = int(os.environ.get("WORLD_SIZE", args.nproc_per_node))
    batch = args.batch_size or recipe.batch_size
    if batch % world:
        parser.error(f"--batch-size {batch} must divide evenly among the {world} processes")
    if args.resume and not (Path(args.out) / "checkpoint.pt").is_file():
        parser.error(f"--resume: no checkpoint at {Path(args.out) / 'checkpoint.pt'}")
    args.arch, args.classes = arch, train_classes
    return args


# ---------------------------------------------------------------------------------------
# The model, the data, the recipe
# ---------------------------------------------------------------------------------------


def _initialise(model: nn.Module, recipe: Recipe) -> None:
    """The papers' initialisation: Gaussian weights of ``init_std``, biases 0 or 1 (``bias_one``)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d | nn.Linear):
            nn.init.normal_(module.weight, std=recipe.init_std)
            nn.init.constant_(module.bias, 1.0 if name in recipe.bias_one else 0.0)


def _transforms(resize: int, crop: int, train: bool) -> T.Compose:
    # Sec. 2 of both papers: shorter side to `resize`, central square; then a random crop
    # and flip (training) or the central crop (validation). Mean subtraction and the PCA
    # colour noise happen on the device, on whole batches.
    steps = [T.PILToTensor(), T.Resize(resize, antialias=True), T.CenterCrop(resize)]
    steps += [T.RandomCrop(crop), T.RandomHorizontalFlip()] if train else [T.CenterCrop(crop)]
    return T.Compose([*steps, T.ToDtype(torch.float32, scale=True)])


def _shard(dataset, rank: int, world: int) -> Subset:
    """Every ``world``-th image from ``rank``: disjoint shards for evaluation, none padded."""
    return Subset(dataset, list(range(rank, len(dataset), world)))


def _epoch_generator(seed: int, epoch: int, rank: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 1_009 + rank)


def _device(local_rank: int) -> torch.device:
    return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")


def _checksum(model: nn.Module) -> str:
    """SHA-256 of the parameters (not the buffers: BatchNorm's running statistics are each
    process's own between DDP's broadcasts from rank 0 at the start of every forward)."""
    digest = hashlib.sha256()
    for tensor in model.parameters():
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_atomically(obj: dict, path: Path) -> None:
    """``torch.save`` to a temporary file in ``path``'s folder, then rename it over ``path``."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        torch.save(obj, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _write_log(rows: list[dict], path: Path) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)


@torch.no_grad()
def _evaluate(model, loader, device, mean, std, *, crop: int | None, channels_last: bool):
    """Top-1 and top-5 errors (fractions) over all processes' shards, each image counted once.

    ``crop=None``: one prediction per image. ``crop=224``: the papers' ten patches (four
    corners, centre, and their mirror images) of each image, softmax outputs averaged.
    """
    counts = torch.zeros(3, dtype=torch.float64, device=device)  # top-1 right, top-5 right, n
    for images, labels in loader:
        images = (images.to(device) - mean) / std
        patches = images if crop is None else augment.ten_crop(images, crop).flatten(0, 1)
        if channels_last:
            patches = patches.contiguous(memory_format=torch.channels_last)
        probabilities = model(patches).float().softmax(dim=1).cpu()
        if crop is not None:
            probabilities = probabilities.view(10, len(images), -1).mean(dim=0)
        n = len(labels)
        counts[0] += topk_accuracy(probabilities, labels, k=1) * n
        counts[1] += topk_accuracy(probabilities, labels, k=min(5, probabilities.shape[1])) * n
        counts[2] += n
    if dist.is_initialized():
        dist.all_reduce(counts)
    top1, top5, n = counts.tolist()
    return 1 - top1 / n, 1 - top5 / n


def main(argv: list[str] | None = None) -> None:
    """Train as the command line says (``python scripts/train_imagenet.py --help``)."""
    argv = sys.argv[1:] if argv is None else argv
    if not isinstance(argv, list | tuple) or not all(isinstance(a, str) for a in argv):
        raise TypeError(f"argv must be a list of strings (command-line words), got {argv!r}")
    argv = list(argv)
    args = parse_args(argv)
    if "LOCAL_RANK" not in os.environ and args.nproc_per_node > 1:
        # Everything was checked above, before any process starts: now hand over to torchrun.
        script = Path(__file__).resolve().parents[1] / "scripts" / "train_imagenet.py"
        torchrun(["--standalone", f"--nproc-per-node={args.nproc_per_node}", str(script), *argv])
        return
    _train(args)


def _checkpoint(model, optimizer, schedule, scaler, args, epoch, history, pca) -> dict:
    """Everything a resumed run needs, as tensors and plain Python values (``weights_only``)."""
    return {
        "format": 1,
        "arch": args.arch,
        "num_classes": len(args.classes),
        "classes": args.classes,
        "preset": args.preset,
        "epoch": epoch,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict(),
        "schedule": schedule.state_dict(),
        "scaler": scaler.state_dict(),
        "pca": pca,
        "history": history,
        "rng": {"cpu": torch.get_rng_state()},
    }


def _train(args: argparse.Namespace) -> None:
    recipe = PRESETS[args.preset]
    distributed = "LOCAL_RANK" in os.environ
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    device = _device(local_rank)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            torch.cuda.set_device(device)
    rank = dist.get_rank() if distributed else 0
    world = dist.get_world_size() if distributed else 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    epochs = args.epochs or recipe.epochs
    batch = (args.batch_size or recipe.batch_size) // world  # per process
    crop = args.crop or recipe.crop
    resize = args.resize or max(crop, round(crop * recipe.resize / recipe.crop))
    on_gpu = device.type == "cuda"
    amp = on_gpu if args.amp == "auto" else args.amp == "on"
    amp_dtype = torch.float16 if on_gpu and not torch.cuda.is_bf16_supported() else torch.bfloat16
    channels_last = on_gpu if args.channels_last == "auto" else args.channels_last == "on"
    paper_net = not args.arch.startswith(_TORCHVISION_PREFIX)

    torch.manual_seed(args.seed)  # the same initial weights on every process
    model = models.by_name(args.arch, len(args.classes))
    if paper_net:
        _initialise(model, recipe)
    model.to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    ddp = nn.parallel.DistributedDataParallel
    net = ddp(model, device_ids=[local_rank] if on_gpu else None) if distributed else model
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=args.lr or recipe.lr,
        momentum=recipe.momentum,
        weight_decay=recipe.weight_decay,
    )
    # "divide the learning rate by 10 when the validation error rate stopped improving"
    schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=recipe.lr_factor, patience=args.patience
    )
    scaler = torch.amp.GradScaler(device.type, enabled=amp and amp_dtype == torch.float16)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)

    root = Path(args.data)
    train_set = ImageFolder(str(root / "train"), transform=_transforms(resize, crop, train=True))
    val_set = ImageFolder(str(root / "val"), transform=_transforms(resize, crop, train=False))
    ten_set = ImageFolder(str(root / "val"), transform=_transforms(resize, resize, train=False))
    sampler = (
        DistributedSampler(train_set, num_replicas=world, rank=rank, seed=args.seed, drop_last=True)
        if distributed
        else None
    )
    start, history, pca = 0, [], None
    if args.resume:
        state = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        scaler.load_state_dict(state["scaler"])
        start, history, pca = state["epoch"], state["history"], state["pca"]
    elif recipe.pca_std > 0:
        # Sec. 4.1: PCA of the RGB values of the training pixels (here of a 1,000-image
        # sample, the same on every process). Chapter 3: the shift is scaled by the square
        # roots of the eigenvalues (pixels in [0, 1]), as public implementations do.
        picks = torch.randperm(len(train_set), generator=torch.Generator().manual_seed(args.seed))
        sample = torch.stack([train_set[int(i)][0] for i in picks[:1000]])
        eigenvalues, eigenvectors = augment.rgb_pca(sample)
        pca = {"sqrt_eigenvalues": eigenvalues.sqrt(), "eigenvectors": eigenvectors}

    for epoch in range(start, epochs):
        began = time.perf_counter()
        generator = _epoch_generator(args.seed, epoch, rank)
        torch.manual_seed(int(torch.randint(2**62, (1,), generator=generator)))  # crops, dropout
        if sampler is not None:
            sampler.set_epoch(epoch)
        loader = DataLoader(
            train_set,
            batch_size=batch,
            sampler=sampler,
            shuffle=sampler is None,
            generator=generator,
            num_workers=args.workers,
            drop_last=True,
            pin_memory=on_gpu,
        )
        steps = len(loader) if args.max_steps is None else min(len(loader), args.max_steps)
        totals = torch.zeros(3, dtype=torch.float64)  # loss sum, right, images
        net.train()
        for images, labels in tqdm(
            itertools.islice(loader, steps),
            total=steps,
            desc=f"epoch {epoch + 1}/{epochs}",
            disable=rank != 0,
        ):
            images = images.to(device, non_blocking=True)
            labels = labels.to(device, non_blocking=True)
            if pca is not None:
                alphas = recipe.pca_std * torch.randn(len(images), 3, dtype=torch.float64)
                shift = augment.pca_color_shift(
                    pca["sqrt_eigenvalues"], pca["eigenvectors"], alphas
                )
                images = images + shift.to(device, images.dtype)[:, :, None, None]
            images = (images - mean) / std
            if channels_last:
                images = images.contiguous(memory_format=torch.channels_last)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp):
                scores = net(images)
                loss = F.cross_entropy(scores.float(), labels)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss.item()} at epoch {epoch + 1}: lower --lr (the "
                    "papers' learning rates assume their initialisation and batch size)"
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            if recipe.max_filter_rms is not None and paper_net:
                with torch.no_grad():
                    renormalize_filters_(model, recipe.max_filter_rms)
            n = len(labels)
            totals += torch.tensor(
                [
                    loss.item() * n,
                    topk_accuracy(scores.detach().float().cpu(), labels.cpu()) * n,
                    n,
                ],
                dtype=torch.float64,
            )
        if distributed:
            totals = totals.to(device)
            dist.all_reduce(totals)
        train_seconds = time.perf_counter() - began
        net.eval()
        shard = DataLoader(_shard(val_set, rank, world), batch_size=batch, num_workers=args.workers)
        top1, top5 = _evaluate(
            model, shard, device, mean, std, crop=None, channels_last=channels_last
        )
        row = {
            "epoch": epoch + 1,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": float(totals[0] / totals[2]),
            "train_top1_error": float(1 - totals[1] / totals[2]),
            "val_top1_error": top1,
            "val_top5_error": top5,
            "images_per_second": round(float(totals[2]) / train_seconds, 1),
            "seconds": round(time.perf_counter() - began, 2),
        }
        if args.ten_crop and epoch + 1 == epochs:
            shard = DataLoader(
                _shard(ten_set, rank, world),
                batch_size=max(1, batch // 10),
                num_workers=args.workers,
            )
            row["val_top1_error_10crop"], row["val_top5_error_10crop"] = _evaluate(
                model, shard, device, mean, std, crop=crop, channels_last=channels_last
            )
        schedule.step(top1)
        history.append(row)
        if args.debug_dir:
            seen = list(sampler)[: steps * batch] if sampler is not None else []
            debug = Path(args.debug_dir)
            debug.mkdir(parents=True, exist_ok=True)
            text = f"{_checksum(model)}\n{' '.join(map(str, seen))}\n"
            with atomic_write(debug / f"epoch{epoch + 1}-rank{rank}.txt") as f:
                f.write(text)
        if rank == 0:
            state = _checkpoint(model, optimizer, schedule, scaler, args, epoch + 1, history, pca)
            save_atomically(state, out / "checkpoint.pt")
            _write_log(history, out / "log.csv")
            print(
                ", ".join(
                    f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
                ),
                flush=True,
            )
        if distributed:
            dist.barrier()
    if distributed:
        dist.destroy_process_group()
