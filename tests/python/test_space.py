"""sparktune.space: hp writes the schema-1 nodes (hyperopt's signatures), without a JVM."""

import json
import math

import pytest

from sparktune import SearchSpaceError
from sparktune.space import hp, to_json, to_node


@pytest.mark.parametrize(
    "expr, node",
    [
        (hp.uniform("u", -1, 2.5), {"hp": "uniform", "label": "u", "low": -1, "high": 2.5}),
        (hp.loguniform("lu", -3, 0), {"hp": "loguniform", "label": "lu", "low": -3, "high": 0}),
        (hp.quniform("qu", 0, 10, 2), {"hp": "quniform", "label": "qu", "low": 0, "high": 10, "q": 2}),
        (hp.qloguniform("qlu", 0, 5, 1), {"hp": "qloguniform", "label": "qlu", "low": 0, "high": 5, "q": 1}),
        (hp.normal("n", 0.5, 2), {"hp": "normal", "label": "n", "mu": 0.5, "sigma": 2}),
        (hp.lognormal("ln", 0, 1), {"hp": "lognormal", "label": "ln", "mu": 0, "sigma": 1}),
        (hp.qnormal("qn", 0, 1, 0.5), {"hp": "qnormal", "label": "qn", "mu": 0, "sigma": 1, "q": 0.5}),
        (hp.qlognormal("qln", 0, 1, 3), {"hp": "qlognormal", "label": "qln", "mu": 0, "sigma": 1, "q": 3}),
        (hp.randint("r1", 7), {"hp": "randint", "label": "r1", "low": 0, "high": 7}),
        (hp.randint("r2", 3, 7), {"hp": "randint", "label": "r2", "low": 3, "high": 7}),
        (hp.randint("r3", upper=4), {"hp": "randint", "label": "r3", "low": 0, "high": 4}),
        (hp.uniformint("ui", 1, 9), {"hp": "uniformint", "label": "ui", "low": 1, "high": 9, "q": 1.0}),
        (hp.uniformint("ui", 0, 9, q=3), {"hp": "uniformint", "label": "ui", "low": 0, "high": 9, "q": 3}),
        (hp.choice("c", ["a", 2, None]),
         {"hp": "choice", "label": "c", "options": [{"const": "a"}, {"const": 2}, {"const": None}]}),
        (hp.pchoice("pc", [(0.25, "a"), (0.75, "b")]),
         {"hp": "pchoice", "label": "pc",
          "options": [{"p": 0.25, "value": {"const": "a"}}, {"p": 0.75, "value": {"const": "b"}}]}),
    ],
)
def test_each_kind_writes_its_node(expr, node):
    assert to_node(expr) == node


def test_nesting_dicts_lists_tuples_and_constants():
    space = {"lr": hp.uniform("lr", 0, 1), "layers": [64, hp.choice("act", ["relu", ("tanh", 1)])],
             "fixed": {"a": 1.5}}
    doc = json.loads(to_json(space))
    assert doc["sparktune_space"] == 1
    assert list(doc["root"]["dict"]) == ["lr", "layers", "fixed"]  # key order kept
    assert doc["root"]["dict"]["layers"] == {"list": [
        {"const": 64},
        {"hp": "choice", "label": "act",
         "options": [{"const": "relu"}, {"list": [{"const": "tanh"}, {"const": 1}]}]},
    ]}
    assert doc["root"]["dict"]["fixed"] == {"dict": {"a": {"const": 1.5}}}


def test_numpy_numbers_are_plain_json():
    np = pytest.importorskip("numpy")
    node = to_node(hp.randint("k", np.int64(2), np.int64(5)))
    assert node == {"hp": "randint", "label": "k", "low": 2, "high": 5}
    assert json.dumps(node) == '{"hp": "randint", "label": "k", "low": 2, "high": 5}'


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -math.inf])
def test_non_finite_numbers_are_refused_naming_the_label(bad):
    # JSON cannot carry NaN or infinity, so this rule is met while encoding, in the core's words.
    with pytest.raises(SearchSpaceError, match=r"/root/dict/x \(label 'lr'\): low is .*finite"):
        to_json({"x": hp.uniform("lr", bad, 1.0)})
    with pytest.raises(SearchSpaceError, match=r"label 'w'.*p is"):
        to_json(hp.pchoice("w", [(bad, "a"), (1.0, "b")]))
    with pytest.raises(SearchSpaceError, match=r"label 'k'"):
        to_json(hp.choice("k", [1.0, bad]))
