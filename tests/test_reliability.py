"""Reliability (issue 15): every public helper refuses bad input with one clear error.

Three parts:

1. **Every public function, driven with bad values.** The functions come from
   each module's ``__all__`` (so a new module or function is covered as soon as
   it exists). Each parameter gets the bad values of its kind (from its type
   hint or its shared name: ``model``, ``images``, ``layer``, ...), the other
   parameters an example value that works. The call must raise ``TypeError`` or
   ``ValueError`` whose message names the parameter, and must do nothing before
   that: no random draw, no printed line, no file, no figure, no change to the
   model, no global PyTorch setting. Calling with NumPy scalars in place of
   Python numbers must work as well as with Python numbers. For a function not
   yet reviewed for issue 15 (not in ``REVIEWED``: new modules, new functions),
   a failing case is reported as xfail ("owner: new module, to fix") instead of
   failing the suite; add the function to ``REVIEWED`` once it passes.
2. **The cases listed in the issue**, one by one.
3. **Properties** (hypothesis) of the checks and of the helpers they guard.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import importlib
import inspect
import itertools
import json
import math
import pkgutil
import random
import re
import struct
from importlib import resources

import hypothesis.extra.numpy as hnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import course_utils as cu
from course_utils import _validate, data, metrics, plotting, unpooling
from course_utils.data import FASHION_MNIST_CLASSES, ImageSet

#: The functions whose checks were reviewed for issue 15: a failing case of any other is an xfail.
REVIEWED = {
    "ablation": (
        "feature_map_drops",
        "paper_table3",
        "remove_layers",
        "replace_layers",
        "retrained_variants",
        "zero_feature_maps",
    ),
    "aliasing": (
        "aliased_fraction",
        "energy_above",
        "filter_spectra",
        "first_layer_aliasing",
        "spectrum_frequencies",
    ),
    "architectures": (
        "BuildingBlock",
        "Inception",
        "NaiveInception",
        "SmallResNet",
        "conv_stack",
        "ilsvrc_networks",
        "load_degradation_histories",
        "plain_net",
        "residual_net",
        "se_resnet50",
    ),
    "augment": (
        "paper_crop_size",
        "pca_color_augment",
        "pca_color_shift",
        "random_crop_flip",
        "rgb_pca",
        "ten_crop",
    ),
    "checks": (
        "answer_hash",
        "check",
        "check_function",
        "exercise",
        "feedback",
        "feedback_for_record",
        "hint",
        "record_hashes",
        "record_problems",
    ),
    "data": (
        "ImageSet",
        "ImageSet.tensors",
        "imagenet_class_names",
        "load_fashion_mnist",
        "read_idx",
        "sample_photo",
    ),
    "deconvnet": (
        "DeconvNet",
        "DeconvNet.project",
        "DeconvNet.project_top",
        "rectify",
        "top_activations",
    ),
    "download": ("cache_dir", "download", "file_checksum"),
    "features": (
        "bag_of_words",
        "cell_histograms",
        "dense_descriptors",
        "fisher_vector",
        "gradients",
        "hog",
        "patches",
        "plot_hog",
    ),
    "metrics": (
        "average_precision",
        "box_iou",
        "confusion_matrix",
        "ilsvrc_iou_threshold",
        "localization_error",
        "match_detections",
        "mean_average_precision",
        "precision_envelope",
        "precision_recall_curve",
        "topk_accuracy",
    ),
    "imagenet_training": ("main",),
    "models": (
        "SmallNet",
        "alexnet",
        "by_name",
        "load_checkpoint",
        "checkpoint_dir",
        "checkpoint_history",
        "imagenet_top5",
        "load_imagenet_alexnet",
        "load_pretrained",
        "small_alexnet",
        "small_zfnet",
        "zfnet",
    ),
    "normalization": ("LocalResponseNorm",),
    "occlusion": (
        "OcclusionMaps",
        "occlusion_attribution",
        "occlusion_maps",
        "part_correspondence",
        "window_starts",
    ),
    "plotting": (
        "architecture_diagram",
        "draw_box",
        "mosaic",
        "occlusion_panels",
        "show_images",
        "use_course_style",
    ),
    "receptive_field": (
        "effective_receptive_field",
        "empirical_receptive_field",
        "field_box",
        "mass_fraction",
        "receptive_field",
    ),
    "seeding": ("deterministic_algorithms", "seed_everything"),
    "summary": ("layer_table", "weight_layers"),
    "history_figures": (
        "human_interval",
        "plot_degradation",
        "plot_networks_by_year",
        "plot_top5_by_year",
    ),
    "timeline": (
        "load_results",
        "load_tasks",
        "tasks_by_year",
        "test_set_sizes",
        "winners",
    ),
    "train": ("evaluate", "fit", "predict", "renormalize_filters_"),
    "transposed_conv": (
        "conv_input_sizes",
        "conv_matrix",
        "conv_output_size",
        "deconvolve",
        "overlap_count",
        "transposed_output_size",
    ),
    "unpooling": ("max_pool_with_switches", "unpool", "upsample"),
    "wordnet": (
        "classes",
        "classes_under",
        "compare_guesses",
        "group_counts",
        "height",
        "hierarchical_cost",
        "hypernym_path",
        "lowest_common_ancestor",
        "name",
        "same_subtree",
        "shared_lemmas",
        "synsets",
        "wnid",
    ),
}
NOT_REVIEWED_REASON = "owner: new module, to fix"


def reviewed(module: str, function: str) -> bool:
    return function in REVIEWED.get(module, ())


def public_callables():
    """(module name, name, object) for every callable in every public module's __all__.

    The public methods of a public class are included too (``"DeconvNet.project"``), except
    a ``torch.nn.Module``'s (``forward`` and the like: the model's own interface).
    """
    found = []
    for info in sorted(pkgutil.iter_modules(cu.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"course_utils.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name, None)
            if callable(obj) and not (isinstance(obj, type) and issubclass(obj, BaseException)):
                found.append((info.name, name, obj))
            if isinstance(obj, type) and not issubclass(obj, nn.Module | BaseException):
                for method, function in vars(obj).items():
                    if not method.startswith("_") and inspect.isfunction(function):
                        found.append((info.name, f"{name}.{method}", function))
    return found


def resolve(module: str, name: str):
    """``course_utils.<module>.<name>``, where ``name`` may be ``"Class.method"``."""
    return functools.reduce(
        getattr, name.split("."), importlib.import_module(f"course_utils.{module}")
    )


# --- Example values that work, by parameter name (overridden per module or function) ---------


def tiny_image_set() -> ImageSet:
    images = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8, generator=gen())
    return ImageSet(images, torch.tensor([0, 1, 2, 3]), FASHION_MNIST_CLASSES, "test", "hand")


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def write_idx(path, array: np.ndarray):
    """An IDX file by the format's definition (the MNIST page)."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", n) for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())
    return path


def small_model():
    cu.seed_everything(0)
    return cu.models.small_zfnet().eval()


@functools.cache
def _tiny_occlusion_maps():
    images = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    return cu.occlusion.occlusion_maps(
        small_model(), images, "features.0", target=0, window=14, stride=14
    )


def tiny_occlusion_maps():
    """Built once for the whole module (it was rebuilt for every field), then copied."""
    return dataclasses.replace(_tiny_occlusion_maps())


def first_exercise() -> str:
    exercises = resources.files("course_utils") / "_data" / "exercises.json"
    return next(iter(json.loads(exercises.read_text(encoding="utf-8"))))


BOX = [[0.0, 0.0, 10.0, 10.0]]
EXAMPLES = {
    # shared names (see notes/COMMON.md)
    "model": lambda ctx: small_model(),
    "images": lambda ctx: torch.rand(2, 1, 28, 28, generator=gen()),
    "layer": lambda ctx: "features.0",
    "layers": lambda ctx: ["features.1"],
    "channel": lambda ctx: 0,
    "channels": lambda ctx: [0],
    "target": lambda ctx: 0,
    "position": lambda ctx: (0, 0),
    "window": lambda ctx: 14,
    "stride": lambda ctx: 2,
    "baseline": lambda ctx: 0.0,
    "x": lambda ctx: torch.rand(1, 2, 4, 4, generator=gen()),
    "k": lambda ctx: 1,
    "num_classes": lambda ctx: 3,
    "arch": lambda ctx: "zfnet",
    "seed": lambda ctx: 0,
    "size": lambda ctx: 16,
    "input_size": lambda ctx: (1, 28, 28),
    "dataset": lambda ctx: tiny_image_set(),
    "train_set": lambda ctx: tiny_image_set(),
    "test_set": lambda ctx: tiny_image_set(),
    # metrics
    "scores": lambda ctx: np.array([[0.1, 0.9, 0.0], [0.5, 0.2, 0.3]]),
    "labels": lambda ctx: np.array([1, 0]),
    "pred_labels": lambda ctx: np.array([1, 2]),
    "boxes_a": lambda ctx: BOX,
    "boxes_b": lambda ctx: [[5.0, 5.0, 15.0, 15.0]],
    "pred_boxes": lambda ctx: BOX,
    "gt_boxes": lambda ctx: BOX,
    "gt_labels": lambda ctx: [1],
    "gt_images": lambda ctx: [0],
    "det_images": lambda ctx: [0],
    "det_labels": lambda ctx: [1],
    "det_boxes": lambda ctx: BOX,
    "det_scores": lambda ctx: [0.9],
    "is_true_positive": lambda ctx: [True],
    "num_ground_truth": lambda ctx: 1,
    "precision": lambda ctx: [1.0, 0.5],
    # aliasing, augment, normalization
    "weight": lambda ctx: torch.rand(4, 1, 5, 5, generator=gen()),
    "power": lambda ctx: torch.rand(2, 16, 16, generator=gen()) + 0.1,
    "cutoff": lambda ctx: 0.25,
    "maps": lambda ctx: torch.rand(2, 1, 16, 16, generator=gen()),
    "image_size": lambda ctx: 28,
    "eigenvalues": lambda ctx: torch.tensor([0.3, 0.2, 0.1], dtype=torch.float64),
    "eigenvectors": lambda ctx: torch.eye(3, dtype=torch.float64),
    "alphas": lambda ctx: torch.zeros(2, 3, dtype=torch.float64),
    # data, download, models
    "path": lambda ctx: write_idx(ctx["tmp"] / "a-idx1-ubyte.gz", np.arange(3)),
    "url": lambda ctx: ctx["url"] + "file.bin",
    "checksum": lambda ctx: "sha256:" + "0" * 64,
    "what": lambda ctx: "a file",
    "name": lambda ctx: "small_zfnet",
    "first": lambda ctx: "alexnet",
    "photo": lambda ctx: np.zeros((8, 8, 3), np.uint8),
    "classes": lambda ctx: FASHION_MNIST_CLASSES,
    "split": lambda ctx: "test",
    "source": lambda ctx: "made by hand",
    # plotting, timeline
    "ax": lambda ctx: ctx["ax"](),
    "box": lambda ctx: [0, 0, 1, 1],
    "color": lambda ctx: "red",
    "results": lambda ctx: cu.timeline.load_results(),
    "task": lambda ctx: "classification",
    # modules of other engineers (a best guess; fix here if one is wrong)
    "exercise_id": lambda ctx: first_exercise(),
    "record": lambda ctx: cu.checks.exercise(first_exercise()),
    "answer": lambda ctx: 0,
    "kernel_size": lambda ctx: 2,
    "output_size": lambda ctx: (4, 4),
    "pooled": lambda ctx: unpooling.max_pool_with_switches(EXAMPLES["x"](ctx), 2)[0],
    "switches": lambda ctx: unpooling.max_pool_with_switches(EXAMPLES["x"](ctx), 2)[1],
    "signal": lambda ctx: torch.rand(1, 2, 4, 4, generator=gen()),
    "forward_input": lambda ctx: torch.rand(1, 2, 4, 4, generator=gen()) - 0.5,
    "rule": lambda ctx: "deconvnet",
    "synset": lambda ctx: 0,
    "group": lambda ctx: 0,
    "a": lambda ctx: 0,
    "b": lambda ctx: 1,
    "guesses": lambda ctx: [1, 2],
    "in_channels": lambda ctx: 4,
    "out_channels": lambda ctx: 4,
    "depth": lambda ctx: 8,
    "residual": lambda ctx: True,
    "replacements": lambda ctx: {"features.1": nn.Identity()},
    "erf": lambda ctx: torch.rand(28, 28, generator=gen()),
    "mass": lambda ctx: 0.9,
    "blurred": lambda ctx: torch.rand(1, 1, 8, 8, generator=gen()),
    "histories": lambda ctx: cu.architectures.load_degradation_histories(),
    **{name: (lambda ctx: 2) for name in ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5")},
    "pool_proj": lambda ctx: 2,
    "kind": lambda ctx: "number",
}
#: Examples that differ for one module ("module") or one function ("module.name").
OVERRIDES = {
    "augment": {
        "images": lambda ctx: torch.rand(2, 3, 8, 8, generator=gen()),
        "size": lambda ctx: 4,
    },
    "plotting": {"images": lambda ctx: np.zeros((2, 8, 8)), "size": lambda ctx: 1.0},
    "history_figures.human_interval": {
        "error": lambda ctx: 5.1,
        "sample_size": lambda ctx: 1500,
        "z": lambda ctx: 1.96,
    },
    "metrics.average_precision": {"scores": lambda ctx: [0.9]},
    "metrics.precision_recall_curve": {"scores": lambda ctx: [0.9]},
    "metrics.localization_error": {"pred_labels": lambda ctx: [1]},
    "download.file_checksum": {"path": lambda ctx: write_idx(ctx["tmp"] / "f.gz", np.arange(3))},
    "download.download": {"path": lambda ctx: ctx["tmp"] / "out.bin"},
    "models.imagenet_top5": {"model": lambda ctx: ctx["imagenet_model"]()},
    "models.load_imagenet_alexnet": {
        "url": lambda ctx: ctx["url"] + "alexnet-owt-7be5be79.pth",
        "folder": lambda ctx: ctx["tmp"] / "weights",
    },
    "data.ImageSet": {
        "images": lambda ctx: torch.zeros(3, 28, 28, dtype=torch.uint8),
        "labels": lambda ctx: torch.tensor([0, 1, 2]),
    },
    "aliasing.first_layer_aliasing": {"images": lambda ctx: torch.rand(2, 1, 28, 28)},
    # Part 3's later modules (attribution, sanity, evolution, invariance)
    "attribution.deletion_curve": {
        "attribution": lambda ctx: torch.rand(2, 1, 28, 28, generator=gen()),
        "baseline": lambda ctx: 0.0,
    },
    "attribution.insertion_curve": {
        "attribution": lambda ctx: torch.rand(2, 1, 28, 28, generator=gen()),
        "baseline": lambda ctx: 0.0,
    },
    "attribution.Curve": {
        "fraction": lambda ctx: torch.linspace(0, 1, 5),
        "score": lambda ctx: torch.rand(2, 5, generator=gen()),
        "area": lambda ctx: torch.rand(2, generator=gen()),
    },
    "sanity.rank_correlation": {
        "a": lambda ctx: torch.rand(2, 6, generator=gen()),
        "b": lambda ctx: torch.rand(2, 6, generator=gen()),
    },
    "sanity.cascading_randomization": {
        "explain": lambda ctx: lambda m, x: m(x),
        "layers": lambda ctx: ["features.12"],
    },
    "sanity.group_similarity": {
        "maps": lambda ctx: torch.rand(4, 1, 6, 6, generator=gen()),
        "groups": lambda ctx: [0, 0, 1, 1],
    },
    "evolution.correlation": {
        "first": lambda ctx: torch.rand(5, 3, generator=gen()),
        "second": lambda ctx: torch.rand(5, 3, generator=gen()),
    },
    "evolution.response_correlation": {"other": lambda ctx: small_model()},
    "evolution.load_epoch": {"epoch": lambda ctx: 1},
    "invariance.transform": {"kind": lambda ctx: "translation", "amount": lambda ctx: 1.0},
    "invariance.invariance": {
        "kind": lambda ctx: "translation",
        "amounts": lambda ctx: [0.0, 1.0],
        "labels": lambda ctx: [0, 1],
        "layers": lambda ctx: ["features.4"],
    },
    "invariance.distances": {
        "reference": lambda ctx: torch.rand(2, 5, generator=gen()),
        "other": lambda ctx: torch.rand(2, 5, generator=gen()),
    },
    "transposed_conv": {
        "size": lambda ctx: 8,
        "output_size": lambda ctx: 4,
        "kernel_size": lambda ctx: 3,
        "input_size": lambda ctx: 8,
        "weight": lambda ctx: torch.rand(1, 1, 3, 3, generator=gen()),
    },
    "occlusion.window_starts": {"size": lambda ctx: 28},
    "deconvnet.top_activations": {"images": lambda ctx: torch.rand(9, 1, 28, 28, generator=gen())},
    "architectures.conv_stack": {"channels": lambda ctx: 4},
    "receptive_field.field_box": {
        "table": lambda ctx: cu.receptive_field.receptive_field(small_model(), (1, 28, 28))
    },
    "receptive_field.mass_fraction": {"box": lambda ctx: (0, 0, 5, 5)},
    "checks.check_function": {
        "exercise_id": lambda ctx: "alexnet-groups",
        # weights and biases of a grouped convolution, worked out by hand
        "student_fn": lambda ctx: lambda i, o, k, g: i * o * k * k // g + o,
    },
    "features": {
        "images": lambda ctx: torch.rand(2, 28, 28, generator=gen()),
        "image": lambda ctx: torch.rand(28, 28, generator=gen()),
        "descriptors": lambda ctx: torch.rand(2, 5, 4, generator=gen()),
        "vocabulary": lambda ctx: torch.rand(3, 4, generator=gen()),
        "weights": lambda ctx: torch.full((3,), 1 / 3),
        "means": lambda ctx: torch.rand(3, 4, generator=gen()),
        "variances": lambda ctx: torch.rand(3, 4, generator=gen()) + 0.1,
    },
    "occlusion.OcclusionMaps": {
        field.name: (lambda ctx, name=field.name: getattr(tiny_occlusion_maps(), name))
        for field in dataclasses.fields(cu.occlusion.OcclusionMaps)
    },
    "data.ImageSet.tensors": {"self": lambda ctx: tiny_image_set()},
    "deconvnet.DeconvNet.project": {"self": lambda ctx: cu.deconvnet.DeconvNet(small_model())},
    "deconvnet.DeconvNet.project_top": {
        "self": lambda ctx: cu.deconvnet.DeconvNet(small_model()),
        "top": lambda ctx: cu.deconvnet.top_activations(
            small_model(), EXAMPLES["images"](ctx), "features.0", k=1, progress=False
        ),
    },
    "occlusion.part_correspondence": {"masks": lambda ctx: torch.rand(2, 28, 28) > 0.5},
    "plotting.occlusion_panels": {
        "maps": lambda ctx: tiny_occlusion_maps(),
        "pictures": lambda ctx: torch.rand(2, 28, 28, generator=gen()),
        "class_names": lambda ctx: FASHION_MNIST_CLASSES,
    },
}
#: Optional arguments always passed, so that no call reaches the real network.
ALWAYS = {
    "models.load_imagenet_alexnet": ("url", "folder"),
}

# --- Bad values, by kind --------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
#: Arguments without a type hint that take arrays (metrics accepts arrays, tensors, lists).
ARRAY_NAMES = {
    "scores",
    "labels",
    "pred_labels",
    "boxes_a",
    "boxes_b",
    "pred_boxes",
    "gt_boxes",
    "gt_labels",
    "gt_images",
    "det_images",
    "det_labels",
    "det_boxes",
    "det_scores",
    "is_true_positive",
    "precision",
}


def bad_values(module: str, function: str, param: inspect.Parameter) -> list:
    """The values that ``param`` must refuse, from its name and type hint."""
    name, hint = param.name, str(param.annotation) if param.annotation is not param.empty else ""
    may_be_none = param.default is None or "None" in hint
    none = [] if may_be_none else [None]
    if name in ("model",) or "Module" in hint or "SmallNet" in hint:
        return [*none, "alexnet"]
    if name in ("dataset", "train_set", "test_set"):
        return [*none, "abc", torch.zeros(2, 1, 28, 28)]
    if name in ARRAY_NAMES:
        return [None, "abc", [[1.0], [2.0, 3.0]]]
    if name == "photo":
        return [None, "abc"]
    if name == "layer" and "str" in hint:
        return [*none, 3, "no.such.layer"]
    if "Generator" in hint:
        return [0, "seed"]
    if "Callable" in hint:
        return [5]
    if hint == "dict":
        return [*none, "abc", 5, {}]
    if "Mapping" in hint:
        return [*none, "abc", 5, {}]
    if "DataFrame" in hint:
        return [*none, "table", 5]
    if "PathLike" in hint or hint.startswith("Path") or "| Path" in hint:
        return [*none, 5]
    if "Axes" in hint:
        return [*none, "ax"]
    if "Tensor" in hint:
        return [*none, "abc", torch.empty(0)]
    if "Sequence[float]" in hint:
        return [*none, "abcd", [0, 0, NAN, 1]]
    if "Sequence[str]" in hint:
        return ["abcd", 5]
    if "tuple[str" in hint:
        return ["abc", ("a", 3)]
    if hint.startswith("Sequence"):  # of anything else: a list, never a str or a number
        return [*none, "abc", 5]
    if "tuple[int" in hint or "list[int" in hint:
        return [*none, "abc", (2.5, 3), (True, 2)]
    if hint in ("int | str", "int | str | None"):  # a class index or a name ("all")
        return [*none, 2.5, True]
    if hint in ("bool", "bool | None"):
        return [*none, "no", 2]
    if "float" in hint:
        return [*none, True, "0.1" if "str" not in hint else "no", NAN, INF]
    if hint in ("int", "int | None"):
        return [*none, True, 2.5, "3"]
    if hint in ("str", "str | None"):
        return [*none, 3]
    if hint.isidentifier() and hint[0].isupper():  # one of course_utils' classes
        return [*none, "abc", 5]
    return []  # no type hint we know: not driven


def cases():
    for module, name, obj in public_callables():
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        for param in signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            for i, bad in enumerate(bad_values(module, name, param)):
                yield pytest.param(
                    module, name, param.name, bad, id=f"{module}.{name}-{param.name}-{i}"
                )


def _example(module: str, function: str, param: str, ctx):
    for table in (OVERRIDES.get(f"{module}.{function}", {}), OVERRIDES.get(module, {}), EXAMPLES):
        if param in table:
            return table[param](ctx)
    raise LookupError(f"no example value for parameter {param!r}: add one to EXAMPLES")


def _arguments(module: str, function: str, obj, ctx, *, replace: dict) -> dict:
    """Example values for every required parameter (and those in ALWAYS), then ``replace``."""
    kwargs = {}
    always = ALWAYS.get(f"{module}.{function}", ())
    for param in inspect.signature(obj).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or param.name in replace:
            continue
        if param.default is param.empty or param.name in always:
            kwargs[param.name] = _example(module, function, param.name, ctx)
    return {**kwargs, **replace}


def _call(obj, kwargs: dict):
    result = obj(**kwargs)
    if hasattr(result, "__enter__") and hasattr(result, "__exit__"):  # a context manager
        with result:
            pass
    return result


def _files(folder) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*"))


def _snapshot(kwargs: dict, folder) -> tuple:
    """Everything a refused call must leave as it was."""
    models = [
        (v.training, [p.detach().clone() for p in v.state_dict().values()])
        for v in kwargs.values()
        if isinstance(v, nn.Module)
    ]
    return (
        torch.get_rng_state(),
        np.random.get_state()[1].copy(),  # noqa: NPY002 - the global generator is the point
        random.getstate(),
        plt.get_fignums(),
        torch.are_deterministic_algorithms_enabled(),
        torch.get_num_threads(),
        _files(folder),
        models,
    )


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.fixture
def ctx(tmp_path, closed_port_url, monkeypatch):
    monkeypatch.setenv("COURSE_UTILS_CACHE", str(tmp_path / "cache"))
    yield {
        "tmp": tmp_path,
        "url": closed_port_url,
        "ax": lambda: plt.subplots()[1],
        "imagenet_model": lambda: cu.models.alexnet("torchvision").eval(),
    }
    plt.close("all")


def _not_reviewed(module: str, function: str, problem: str):
    if not reviewed(module, function):
        pytest.xfail(f"{NOT_REVIEWED_REASON}: {problem}")
    pytest.fail(problem)


@pytest.mark.parametrize(("module", "function", "param", "bad"), list(cases()))
def test_every_public_function_refuses_bad_values(module, function, param, bad, ctx, capsys):
    obj = resolve(module, function)
    try:
        kwargs = _arguments(module, function, obj, ctx, replace={param: bad})
    except Exception as err:  # an example that cannot be built is the test's problem
        _not_reviewed(
            module, function, f"cannot build the other arguments: {type(err).__name__}: {err}"
        )
    capsys.readouterr()
    before = _snapshot(kwargs, ctx["tmp"])
    try:
        _call(obj, kwargs)
    except (TypeError, ValueError) as err:
        if not re.search(rf"\b{re.escape(param)}\b", str(err)):
            _not_reviewed(module, function, f"{type(err).__name__} does not name {param!r}: {err}")
    except Exception as err:
        _not_reviewed(module, function, f"{param}={bad!r} gave {type(err).__name__}: {err}")
    else:
        _not_reviewed(module, function, f"{param}={bad!r} was accepted")
    out = capsys.readouterr()
    if out.out or out.err:
        _not_reviewed(module, function, f"printed before refusing: {(out.out + out.err)[:200]!r}")
    if not _same(list(before), list(_snapshot(kwargs, ctx["tmp"]))):
        _not_reviewed(
            module, function, "changed a random generator, a setting, a file or the model"
        )


def numpy_cases():
    """Each int or float parameter whose example is a Python number, to pass as a NumPy scalar."""
    for module, name, obj in public_callables():
        try:
            signature = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        for param in signature.parameters.values():
            hint = str(param.annotation)
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD) or hint not in (
                "int",
                "float",
                "int | None",
                "float | None",
                "float | str",
            ):
                continue
            yield pytest.param(module, name, param.name, id=f"{module}.{name}-{param.name}")


@pytest.mark.parametrize(("module", "function", "param"), list(numpy_cases()))
def test_numpy_scalars_work_as_python_numbers(module, function, param, ctx):
    obj = resolve(module, function)
    default = inspect.signature(obj).parameters[param].default
    try:
        use_example = default is None or default is inspect.Parameter.empty
        value = _example(module, function, param, ctx) if use_example else default
        kwargs = _arguments(module, function, obj, ctx, replace={})
    except Exception as err:
        _not_reviewed(module, function, f"cannot build the arguments: {type(err).__name__}: {err}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        pytest.skip(f"the example of {param} is not a number")
    numpy_value = np.int64(value) if isinstance(value, int) else np.float32(value)
    try:
        _call(obj, {**kwargs, param: numpy_value})
    except (TypeError, ValueError) as err:  # the Python number is accepted: see the bad values
        if re.search(rf"\b{re.escape(param)}\b", str(err)):
            _not_reviewed(module, function, f"{param}={numpy_value!r} refused: {err}")
    except (OSError, ConnectionError, TimeoutError):  # offline, no such file: not the number
        pass
    except Exception as err:
        _not_reviewed(module, function, f"{param}={numpy_value!r} gave {type(err).__name__}: {err}")


def test_every_public_function_is_driven():
    """A reviewed function whose parameters all escape the table above is not tested at all."""
    undriven = []
    for module, name, obj in public_callables():
        if not reviewed(module, name):
            continue
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                continue
            if not bad_values(module, name, param) and param.name not in KNOWN_UNDRIVEN:
                undriven.append(f"{module}.{name}({param.name})")
    assert undriven == []


#: Parameters that accept any value by design.
KNOWN_UNDRIVEN: set[str] = {
    # checks.check/feedback judge whatever a student typed and never raise
    # (the message says what was wrong); answer_hash's answers are tested in test_checks.
    "answer",
    # checks.record_problems reports what is wrong with any record, as a list, by design
    "record",
    # a method's instance, built from the examples (OVERRIDES)
    "self",
    # imagenet_training.main reads command-line words; argparse judges them (exit code 2 with
    # the option named), tested in test_imagenet_training
    "argv",
}


# --- The cases listed in issue 15, one by one -----------------------------------------------


def _refuses(call, argument, error=(TypeError, ValueError)):
    with pytest.raises(error) as info:
        call()
    assert re.search(rf"\b{argument}\b", str(info.value)), str(info.value)
    return str(info.value)


@pytest.fixture
def subset():
    return tiny_image_set()


def test_nan_and_inf_are_refused_where_numbers_are_expected(subset):
    model = cu.models.small_zfnet()
    _refuses(lambda: cu.train.fit(model, subset, lr=NAN, progress=False), "lr")
    images = torch.rand(2, 3, 8, 8)
    pca = cu.augment.rgb_pca(images)
    _refuses(lambda: cu.augment.pca_color_augment(images, *pca, std=INF), "std")
    _refuses(lambda: cu.normalization.LocalResponseNorm(alpha=NAN), "alpha")
    _refuses(lambda: cu.train.renormalize_filters_(model, max_rms=NAN), "max_rms")
    _refuses(lambda: metrics.precision_envelope([0.5, NAN]), "precision")
    _refuses(lambda: metrics.precision_envelope([5, -3]), "precision")
    _refuses(lambda: plotting.draw_box(plt.gca(), [0, 0, NAN, 1], "red"), "box")
    _refuses(lambda: cu.augment.rgb_pca(torch.full((3, 4, 4), NAN)), "images")
    plt.close("all")


def test_numpy_scalars_are_numbers_everywhere(subset):
    model = cu.models.small_zfnet()
    history = cu.train.fit(
        model,
        subset,
        epochs=np.int64(1),
        lr=np.float32(0.01),
        batch_size=np.int64(2),
        progress=False,
    )
    assert len(history) == 1
    assert cu.seed_everything(np.int64(0)).initial_seed() == 0
    assert cu.augment.paper_crop_size(np.int64(256)) == 224
    assert metrics.topk_accuracy([[0.1, 0.9]], [1], k=np.int64(1)) == 1.0


def test_booleans_are_not_integers_and_strings_are_not_flags(subset):
    model = cu.models.small_zfnet()
    _refuses(lambda: cu.train.predict(model, subset, batch_size=True), "batch_size", TypeError)
    _refuses(lambda: cu.train.fit(model, subset, epochs=True, progress=False), "epochs", TypeError)
    _refuses(lambda: metrics.box_iou(BOX, BOX, inclusive="no"), "inclusive", TypeError)
    images = torch.rand(2, 1, 8, 8)
    _refuses(lambda: cu.augment.random_crop_flip(images, 4, flip="no"), "flip", TypeError)


def test_raw_errors_now_name_the_argument(subset, tmp_path):
    wide = cu.models.small_zfnet(num_classes=2)  # subset has labels 0..3
    _refuses(lambda: cu.train.fit(wide, subset, progress=False), "model", ValueError)
    empty = ImageSet(
        torch.zeros(0, 28, 28, dtype=torch.uint8),
        torch.zeros(0, dtype=torch.int64),
        FASHION_MNIST_CLASSES,
        "test",
        "empty",
    )
    _refuses(lambda: cu.train.fit(cu.models.small_zfnet(), empty, progress=False), "train_set")
    _refuses(lambda: cu.augment.random_crop_flip(torch.zeros(0, 1, 8, 8), 4), "images")
    message = _refuses(lambda: cu.augment.random_crop_flip(torch.rand(2, 28, 28, 1), 4), "images")
    assert "permute" in message
    _refuses(
        lambda: cu.augment.random_crop_flip(torch.rand(2, 1, 8, 8), 4, generator=0), "generator"
    )
    net = cu.models.small_zfnet()
    _refuses(lambda: cu.aliasing.first_layer_aliasing(net, subset), "images")
    _refuses(lambda: cu.aliasing.first_layer_aliasing(net, torch.zeros(0, 1, 28, 28)), "images")
    _refuses(lambda: plotting.show_images(subset), "images")
    _refuses(lambda: plotting.show_images(torch.rand(3, 2, 8, 8)), "images")
    _refuses(lambda: subset[0:3], "index")
    _refuses(lambda: cu.timeline.winners(results=cu.timeline.load_results().iloc[:0]), "results")
    _refuses(lambda: cu.timeline.winners(results=cu.timeline.load_tasks()), "results")
    _refuses(lambda: cu.history_figures.plot_top5_by_year(cu.timeline.load_tasks()), "results")
    _refuses(lambda: cu.summary.layer_table(net, (3, 28, 28)), "input_size", ValueError)
    _refuses(lambda: metrics.confusion_matrix([0, 10**12], [0, 1]), "labels", ValueError)
    _refuses(lambda: metrics.confusion_matrix([0, 1], [0, 1], num_classes=10**6), "num_classes")
    _refuses(lambda: cu.models.imagenet_top5(None, np.zeros((8, 8, 3), np.uint8)), "model")
    for bad in (5, None):
        _refuses(lambda bad=bad: data.read_idx(bad), "path", TypeError)
        _refuses(lambda bad=bad: cu.download.file_checksum(bad), "path", TypeError)
        _refuses(lambda bad=bad: cu.download.download("http://x/y", bad, "md5:" + "0" * 32), "path")
    _refuses(lambda: data.load_fashion_mnist("test", "full", root=5), "root", TypeError)
    _refuses(lambda: cu.models.load_pretrained("small_zfnet", path=5), "path", TypeError)
    _refuses(lambda: cu.models.load_imagenet_alexnet(folder=5), "folder", TypeError)
    assert list(tmp_path.iterdir()) == []
    plt.close("all")


def test_messages_are_no_longer_misleading():
    message = _refuses(lambda: metrics.confusion_matrix([0, 1], [0, 1, 1]), "pred_labels")
    assert "box" not in message and "one entry per label" in message
    detections = ([-1], [0], BOX, [0.9], [0], [0], BOX)
    message = _refuses(lambda: metrics.match_detections(*detections), "det_images")
    assert "class" not in message and "image ids" in message
    message = _refuses(
        lambda: metrics.precision_recall_curve([0.9], [False], 0), "num_ground_truth"
    )
    assert message == "num_ground_truth must be at least 1: recall is undefined without it"


def test_nothing_wrong_is_accepted_silently():
    images, labels = torch.zeros(3, 28, 28, dtype=torch.uint8), torch.tensor([0, 1, 2])
    parts = {"classes": FASHION_MNIST_CLASSES, "split": "test", "source": "hand"}
    _refuses(lambda: ImageSet(images, labels[:2], **parts), "labels", ValueError)
    _refuses(lambda: ImageSet(images, torch.tensor([0, 1, 10]), **parts), "labels", ValueError)
    _refuses(lambda: ImageSet(images.float() / 255, labels, **parts), "images", TypeError)
    _refuses(lambda: plotting.show_images(np.zeros((4, 8, 8)), titles="abcd"), "titles", TypeError)


def test_what_cannot_fit_is_refused_with_advice():
    boxes = np.tile([0.0, 0.0, 1.0, 1.0], (20_000, 1))
    message = _refuses(lambda: metrics.box_iou(boxes, boxes), "boxes_a", ValueError)
    assert "slices" in message
    message = _refuses(lambda: plotting.show_images(np.zeros((1000, 8, 8))), "images", ValueError)
    assert "images[:64]" in message
    plt.close("all")


# --- Properties -------------------------------------------------------------------------------

INTEGER_TYPES = (int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32)


@settings(max_examples=60, deadline=None)
@given(value=st.integers(-(2**31), 2**31 - 1), kind=st.sampled_from(INTEGER_TYPES))
def test_integer_accepts_every_integer_type(value, kind):
    info = np.iinfo(kind) if kind is not int else None
    if info is not None and not info.min <= value <= info.max:
        return
    result = _validate.integer(kind(value), "n")
    assert result == value and type(result) is int


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(), st.booleans(), st.text(max_size=3), st.none()))
def test_integer_refuses_everything_else(value):
    with pytest.raises(TypeError, match="^n must be an int"):
        _validate.integer(value, "n")


@settings(max_examples=60, deadline=None)
@given(value=st.floats(allow_nan=True, allow_infinity=True, width=32))
def test_number_accepts_exactly_the_finite_floats(value):
    for candidate in (value, np.float32(value), np.float64(value)):
        if math.isfinite(value):
            assert _validate.number(candidate, "x") == pytest.approx(float(candidate))
        else:
            with pytest.raises(ValueError, match="^x must be a finite number"):
                _validate.number(candidate, "x")


@settings(max_examples=30, deadline=None)
@given(value=st.one_of(st.integers(), st.text(max_size=3), st.none(), st.floats()))
def test_flag_accepts_only_booleans(value):
    with pytest.raises(TypeError, match="^f must be True or False"):
        _validate.flag(value, "f")


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.integers(0, 99), max_size=5), kind=st.sampled_from((list, tuple, iter)))
def test_items_takes_lists_and_tuples_of_valid_items_only(values, kind):
    given_value = kind(values)
    if kind is iter:  # an iterator is not a sequence: it could be read only once
        with pytest.raises(TypeError, match="^xs must be a list of ints, got list_iterator"):
            _validate.items(given_value, "xs", _validate.integer, "a list of ints")
        return
    assert _validate.items(given_value, "xs", _validate.integer, "a list of ints") == values
    with pytest.raises(ValueError, match="^xs must be an int >= 100"):
        _validate.items([*values, 5], "xs", _validate.integer, "a list of ints", min=100)


@settings(max_examples=30, deadline=None)
@given(value=st.text(max_size=4))
def test_items_never_reads_a_str_as_a_list_of_letters(value):
    with pytest.raises(TypeError, match="^xs must be a list of str, got str"):
        _validate.items(value, "xs", _validate.text, "a list of str")


boxes = hnp.arrays(
    np.float64, st.tuples(st.integers(0, 7), st.just(4)), elements=st.floats(0, 50, width=32)
).map(lambda b: np.concatenate([np.minimum(b[:, :2], b[:, 2:]), np.maximum(b[:, :2], b[:, 2:])], 1))


def _naive_iou(a, b, inclusive):
    extra = 1.0 if inclusive else 0.0
    out = np.zeros((len(a), len(b)))
    for i, j in itertools.product(range(len(a)), range(len(b))):
        w = min(a[i, 2], b[j, 2]) - max(a[i, 0], b[j, 0]) + extra
        h = min(a[i, 3], b[j, 3]) - max(a[i, 1], b[j, 1]) + extra
        inter = max(w, 0) * max(h, 0)
        area = [(x[2] - x[0] + extra) * (x[3] - x[1] + extra) for x in (a[i], b[j])]
        union = sum(area) - inter
        out[i, j] = inter / union if union > 0 else 0.0
    return out


@settings(max_examples=60, deadline=None)
@given(a=boxes, b=boxes, inclusive=st.booleans(), chunk=st.integers(1, 9))
def test_box_iou_in_chunks_is_the_naive_iou(a, b, inclusive, chunk, monkeypatch_module):
    monkeypatch_module.setattr(metrics, "IOU_CHUNK", chunk)  # forces several chunks
    iou = metrics.box_iou(a, b, inclusive=inclusive)
    np.testing.assert_allclose(iou, _naive_iou(a, b, inclusive), rtol=1e-12, atol=1e-12)
    assert ((0 <= iou) & (iou <= 1)).all()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@settings(max_examples=40, deadline=None)
@given(
    array=hnp.arrays(np.uint8, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6)),
    cut=st.integers(1, 50),
)
def test_idx_round_trip_and_any_truncation_is_refused(array, cut, tmp_path_factory):
    path = write_idx(tmp_path_factory.mktemp("idx") / "a.gz", array)
    np.testing.assert_array_equal(data.read_idx(path), array)
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[: max(len(raw) - cut, 0)]))
    with pytest.raises(ValueError, match="(truncated|magic number)"):
        data.read_idx(path)


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=40))
def test_confusion_matrix_counts_every_pair_once(pairs):
    labels, predicted = (np.array(column) for column in zip(*pairs, strict=True))
    matrix = metrics.confusion_matrix(labels, predicted, num_classes=7)
    naive = np.zeros((7, 7), int)
    for true, guess in pairs:
        naive[true, guess] += 1
    np.testing.assert_array_equal(matrix, naive)


@settings(max_examples=60, deadline=None)
@given(precision=st.lists(st.floats(0, 1), max_size=30))
def test_precision_envelope_is_the_running_maximum_from_the_right(precision):
    envelope = metrics.precision_envelope(precision)
    naive = [max(precision[i:]) for i in range(len(precision))]
    np.testing.assert_array_equal(envelope, naive)
