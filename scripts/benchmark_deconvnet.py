"""Benchmark: batched deconvnet projections against a unit-by-unit loop over Captum.

    python scripts/benchmark_deconvnet.py [--images 32] [--maps 256] [--model torchvision]

For each convolutional layer (conv1 to conv5) of a full-size AlexNet with random
weights, find the top 9 activations of each feature map over ``--images`` random
224x224 images (``cu.deconvnet.top_activations``, not timed), then project every
one of those units back to the pixels twice, and time both:

* ``DeconvNet.project_top``: each image goes up once per batch, the units come
  down together, each inside its own receptive field;
* a loop over the units, one call of Captum's ``NeuronDeconvolution.attribute``
  per unit (a full forward and backward pass of the network each time).

Identical work: the same units, the same rule, the same output (one
``(3, 224, 224)`` projection per unit; Captum's, times the unit's activation,
must equal ours; the table prints the largest relative difference over units
with a positive activation). Captum differentiates normalisation layers, so
``DeconvNet`` is asked to do the same (``lrn="gradient"``; torchvision's AlexNet
has none, the paper's has two). Both run on one CPU thread. ``--maps`` projects the
top 9 of only the first M maps of each layer (all by default), for a shorter
run; the units are processed ``--group`` maps at a time to bound memory.

Measured with the defaults (torchvision's AlexNet, top 9 of every map over 32
images, one thread, 2-core CPU): ``project_top`` was 44x, 19.5x, 10.3x, 7.1x and
4.9x faster than the Captum loop for conv1 to conv5 (targets: 5x for conv1 to
conv3, 2x for conv5); the times are in ``benchmarks/RESULTS.md``, written by
``scripts/benchmark.py``. An earlier run (commit ff998cd) gave 59x, 20x, 10x,
7.4x and 4.8x.
"""

import argparse
import time
import warnings

import torch
from captum.attr import NeuronDeconvolution

import course_utils as cu

LAYERS = {
    "torchvision": ["features.0", "features.3", "features.6", "features.8", "features.10"],
    "paper": ["features.0", "features.4", "features.8", "features.10", "features.12"],
}


def captum_loop(model, layer, images, units) -> torch.Tensor:
    """One Captum call per unit, as one would write it without batching."""
    method = NeuronDeconvolution(model, model.get_submodule(layer))
    projections = []
    for unit in units.itertuples():
        image = images[unit.image : unit.image + 1]
        projection = method.attribute(image, (unit.channel, unit.row, unit.column))
        projections.append(projection * unit.activation)  # Captum starts from 1
    return torch.cat(projections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=32, help="images to rank (>= 9)")
    parser.add_argument("--maps", type=int, default=None, help="maps per layer (default all)")
    parser.add_argument("--group", type=int, default=16, help="maps projected at a time")
    parser.add_argument("--model", choices=sorted(LAYERS), default="torchvision")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", module="captum")  # "Setting backward hooks on ReLU ..."
    cu.seed_everything(0)
    torch.use_deterministic_algorithms(False)
    model = cu.models.alexnet(args.model).eval()
    size = 227 if args.model == "paper" else 224
    images = torch.rand(args.images, 3, size, size)
    deconvnet = cu.deconvnet.DeconvNet(model, lrn="gradient")  # as Captum: exact LRN gradient
    for number, layer in enumerate(LAYERS[args.model], start=1):
        top = cu.deconvnet.top_activations(model, images, layer, k=9, progress=False)
        maps = top["channel"].nunique() if args.maps is None else args.maps
        top = top[top["channel"] < maps]
        ours = captum = difference = 0.0
        for first in range(0, maps, args.group):
            units = top[top["channel"].between(first, first + args.group - 1)]
            start = time.perf_counter()
            batched = deconvnet.project_top(images, layer, units, progress=False)
            ours += time.perf_counter() - start
            start = time.perf_counter()
            looped = captum_loop(model, layer, images, units)
            captum += time.perf_counter() - start
            positive = torch.tensor(units["activation"].to_numpy() > 0)
            error = (batched - looped).flatten(1).abs().amax(dim=1)
            scale = looped.flatten(1).abs().amax(dim=1).clamp_min(1e-30)
            relative = (error / scale)[positive]
            difference = max([difference, *relative.tolist()])
        if number == 1:
            print(
                f"{'layer':20s} {'units':>6s} {'DeconvNet':>10s} {'Captum loop':>12s} "
                f"{'speed-up':>9s} {'max rel. diff.':>15s}"
            )
        name = f"conv{number} ({layer})"
        print(
            f"{name:20s} {len(top):6d} {ours:9.2f}s {captum:11.2f}s {captum / ours:8.1f}x "
            f"{difference:15.0e}",
            flush=True,
        )
    print(
        f"\n{args.model} AlexNet, random weights, top 9 over {args.images} random images, "
        f"{torch.get_num_threads()} thread"
    )


if __name__ == "__main__":
    main()
