"""course_utils: the helper package of the course "Inside ILSVRC".

One module per concept the book teaches; each chapter imports what it needs::

    import course_utils as cu
    cu.setup_notebook(seed=0)
    train = cu.data.load_fashion_mnist("train")

One module per concept; ``course_utils/README.md`` maps them to the chapters
and says where a new concept goes.
"""

import pandas
import torch

from . import ablation
from . import aliasing
from . import architectures
from . import augment
from . import checks
from . import data
from . import deconvnet
from . import download
from . import features
from . import metrics
from . import models
from . import normalization
from . import occlusion
from . import plotting
from . import receptive_field
from . import sanity
from . import seeding
from . import summary
from . import timeline
from . import train
from . import transposed_conv
from . import unpooling
from . import wordnet
from .checks import check
from .seeding import seed_everything

__version__ = "0.1.0"

__all__ = [
    "ablation",
    "aliasing",
    "architectures",
    "augment",
    "check",
    "checks",
    "data",
    "deconvnet",
    "download",
    "features",
    "metrics",
    "models",
    "normalization",
    "occlusion",
    "plotting",
    "receptive_field",
    "sanity",
    "seed_everything",
    "seeding",
    "setup_notebook",
    "summary",
    "timeline",
    "train",
    "transposed_conv",
    "unpooling",
    "wordnet",
]


def setup_notebook(seed: int = 0) -> None:
    """Start a chapter: seed every random generator, use one CPU thread, set the figure style.

    Tables show their text columns in full (pandas would cut them at 50 characters).

    One thread: the course's networks are so small that PyTorch's threads cost
    more than they save (up to ten times slower on a busy 2-core machine), and a
    single thread removes one source of run-to-run and machine-to-machine differences (the
    order in which threads add up floating-point sums).
    """
    seed_everything(seed)
    torch.set_num_threads(1)
    plotting.use_course_style()
    pandas.set_option("display.max_colwidth", None)
