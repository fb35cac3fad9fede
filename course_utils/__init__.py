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
from . import attribution
from . import augment
from . import checks
from . import data
from . import deconvnet
from . import download
from . import evolution
from . import features
from . import history_figures
from . import invariance
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
    "attribution",
    "augment",
    "check",
    "checks",
    "data",
    "DEVICE",
    "deconvnet",
    "download",
    "evolution",
    "features",
    "history_figures",
    "invariance",
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


#: The device chapters put their models on: set by :func:`setup_notebook` (a GPU when
#: there is one, as on Colab; the CPU otherwise).
DEVICE = torch.device("cpu")


def setup_notebook(seed: int = 0) -> None:
    """Start a chapter: seed every random generator, use one CPU thread, set the figure style.

    Tables show their text columns in full (pandas would cut them at 50 characters).

    Sets ``course_utils.DEVICE``, the device to run models on (``model.to(cu.DEVICE)``):
    ``cuda`` when PyTorch sees a GPU (Colab), the CPU otherwise. (It returns nothing,
    so that the call does not print a line in every chapter.) Every helper of
    ``course_utils`` works on whatever device the model is on. The recorded outputs
    of the book come from the CPU; on a GPU, numbers may differ in the last digits.

    One thread: the course's networks are so small that PyTorch's threads cost
    more than they save (up to ten times slower on a busy 2-core machine), and a
    single thread removes one source of run-to-run and machine-to-machine differences (the
    order in which threads add up floating-point sums).
    """
    global DEVICE
    seed_everything(seed)
    torch.set_num_threads(1)
    plotting.use_course_style()
    pandas.set_option("display.max_colwidth", None)
    DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
