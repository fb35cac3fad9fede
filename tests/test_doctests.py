"""The ``Example`` blocks of the helpers' docstrings run and print what they say."""

import doctest

import pytest

import course_utils as cu

MODULES = [
    cu.deconvnet,
    cu.occlusion,
    cu.receptive_field,
    cu.train,
    cu.seeding,
    cu.ablation,
]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples(module):
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(module, module.__name__) if t.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0


def test_the_headline_functions_have_examples():
    headline = [
        cu.deconvnet.DeconvNet.project,
        cu.deconvnet.DeconvNet.project_top,
        cu.deconvnet.top_activations,
        cu.occlusion.occlusion_maps,
        cu.occlusion.occlusion_attribution,
        cu.receptive_field.receptive_field,
        cu.receptive_field.field_box,
        cu.receptive_field.empirical_receptive_field,
        cu.receptive_field.effective_receptive_field,
        cu.train.predict,
        cu.seeding.seed_everything,
    ]
    for function in headline:
        assert ">>> " in function.__doc__, function.__qualname__
