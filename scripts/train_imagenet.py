"""Train AlexNet or ZFNet on ImageNet (or any ImageFolder tree) with the papers' recipes.

One GPU (or the CPU):
    python scripts/train_imagenet.py --preset alexnet --data /data/imagenet --out runs/alexnet
Eight GPUs on one machine (either form):
    torchrun --standalone --nproc-per-node 8 scripts/train_imagenet.py --preset zfnet ...
    python scripts/train_imagenet.py --nproc-per-node 8 --preset zfnet ...
Several machines: see the book's page "Reproducing the papers at full scale".

Every option is checked before any process starts; `--help` lists them. The work is
done by course_utils.imagenet_training (documented there).
"""

from course_utils.imagenet_training import main

if __name__ == "__main__":
    main()
