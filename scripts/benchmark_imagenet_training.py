"""Throughput of the full-scale training (scripts/train_imagenet.py), printed as a table.

Two measurements, on whatever this machine has:

1. training steps per second of AlexNetPaper and ZFNet at batch 128 on synthetic data
   (random images, so no data loading), with mixed precision off and, where the device
   supports it, on; reported as images per second;
2. the data side: images per second that ONE CPU process decodes, resizes and crops
   (the training transform of course_utils.imagenet_training) from JPEGs of ImageNet's
   typical size (500 x 375).

The book's page "Reproducing the papers at full scale" turns these into the cost of an
epoch. Usage: python scripts/benchmark_imagenet_training.py [--batch 128] [--steps 10]
"""

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import course_utils as cu
from course_utils import imagenet_training as it


def training_rate(arch: str, crop: int, batch: int, steps: int, amp: bool, device) -> float:
    model = cu.models.by_name(arch).to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    images = torch.randn(batch, 3, crop, crop, device=device)
    labels = torch.randint(0, 1000, (batch,), device=device)
    dtype = torch.bfloat16

    def step():
        with torch.autocast(device.type, dtype=dtype, enabled=amp):
            loss = F.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(2):  # warm-up (cuDNN's algorithm search, allocator)
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - began)


def decoding_rate(count: int = 60) -> float:
    transform = it._transforms(256, 227, train=True)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i in range(count):
            # A smooth image compresses like a photo (noise would not).
            base = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
            image = Image.fromarray(base).resize((500, 375), Image.BICUBIC)
            paths.append(Path(folder) / f"{i}.jpg")
            image.save(paths[-1], quality=90)
        began = time.perf_counter()
        for path in paths:
            with Image.open(path) as image:
                transform(image.convert("RGB"))
        return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "CPU"
    torch.set_num_threads(torch.get_num_threads())
    print(
        f"device: {name} ({device.type}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} CPU threads, batch {args.batch}, {args.steps} steps"
    )
    print("| network | crop | mixed precision | images/s (training, synthetic data) |")
    print("| --- | --- | --- | --- |")
    for arch, crop in (("alexnet_paper", 227), ("zfnet", 224)):
        for amp in (False, True) if device.type == "cuda" else (False,):
            rate = training_rate(arch, crop, args.batch, args.steps, amp, device)
            print(f"| {arch} | {crop} | {'bf16' if amp else 'off'} | {rate:,.1f} |")
    print(f"\nJPEG decode + resize + crop, one CPU process: {decoding_rate():,.0f} images/s")


if __name__ == "__main__":
    main()
