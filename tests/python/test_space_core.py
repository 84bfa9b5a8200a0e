"""Every validation rule of the core comes back to Python, through the core loaded in this process
(no JVM, no SparkSession), as a SearchSpaceError (a ValueError, a SparktuneError) naming the label,
or the JSON path where there is none."""

import pytest

from sparktune import InvalidInputError, SearchSpaceError, SparktuneError
from sparktune.space import Expr, hp, space_eval, validate, validate_json


def rejected(space):
    """The message of the SearchSpaceError the core gives for `space` (a space, or JSON text)."""
    with pytest.raises(SearchSpaceError) as err:
        if isinstance(space, str):
            validate_json(space)
        else:
            validate(space)
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, InvalidInputError) and isinstance(err.value, SparktuneError)
    return str(err.value)


def test_accepts_a_valid_space_and_lists_its_labels():
    space = {"lr": hp.loguniform("lr", -9, 0),
             "model": hp.choice("model", [{"depth": hp.randint("depth", 2, 9)}, {"c": hp.normal("c", 0, 1)}]),
             "w": hp.pchoice("w", [(0.5, "a"), (0.5 + 5e-7, "b")])}  # sum within 1e-6 of 1
    assert validate(space) == ["lr", "model", "depth", "c", "w"]


@pytest.mark.parametrize(
    "expr",
    [
        hp.uniform("x", 1.0, 1.0),
        hp.loguniform("x", 2.0, 1.0),
        hp.quniform("x", 5, 5, 1),
        hp.qloguniform("x", 3, 1, 1),
        hp.randint("x", 5, 5),
        hp.randint("x", 0),
        hp.uniformint("x", 4, 2),
    ],
    ids=["uniform", "loguniform", "quniform", "qloguniform", "randint", "randint-upper", "uniformint"],
)
def test_low_not_below_high(expr):
    message = rejected({"a": expr})
    assert "label 'x'" in message and "must be < high" in message


def test_empty_choice():
    message = rejected({"a": hp.choice("empty", [])})
    assert "label 'empty'" in message and "empty choice" in message


@pytest.mark.parametrize("expr", [hp.quniform("q", 0, 1, 0), hp.qnormal("q", 0, 1, -0.5),
                                  hp.qlognormal("q", 0, 1, 0), hp.uniformint("q", 0, 5, q=-1)])
def test_q_must_be_positive(expr):
    message = rejected(expr)
    assert "label 'q'" in message and "q (" in message and "must be > 0" in message


@pytest.mark.parametrize("expr", [hp.normal("s", 0, 0), hp.lognormal("s", 0, -1), hp.qnormal("s", 0, 0, 1)])
def test_sigma_must_be_positive(expr):
    message = rejected(expr)
    assert "label 's'" in message and "sigma (" in message and "must be > 0" in message


def test_pchoice_negative_p():
    message = rejected(hp.pchoice("pc", [(-0.1, "a"), (1.1, "b")]))
    assert "label 'pc'" in message and "p (-0.1) must be >= 0" in message


def test_pchoice_p_must_sum_to_one():
    message = rejected(hp.pchoice("pc", [(0.5, "a"), (0.4, "b")]))
    assert "label 'pc'" in message and "sum to" in message


def test_duplicate_labels_anywhere_in_the_tree():
    message = rejected({"a": hp.uniform("dup", 0, 1), "b": [hp.choice("c", [hp.randint("dup", 3), 1])]})
    assert "duplicate label: 'dup'" in message


def test_unknown_hp_kind():
    message = rejected({"g": Expr("gaussian", "g1", {"mu": 0, "sigma": 1})})
    assert "label 'g1'" in message and "gaussian" in message


def test_unknown_key():
    message = rejected(Expr("uniform", "u", {"low": 0, "high": 1, "step": 0.1}))
    assert "label 'u'" in message and "'step'" in message


def test_missing_field():
    message = rejected(Expr("normal", "n", {"mu": 0}))
    assert "label 'n'" in message and "'sigma'" in message


def test_malformed_json():
    message = rejected('{"sparktune_space": 1, "root": {"const": ')
    assert "malformed JSON" in message


@pytest.mark.parametrize("doc, found", [('{"sparktune_space": 2, "root": {"const": 1}}', "2"),
                                        ('{"root": {"const": 1}}', "missing")])
def test_schema_version(doc, found):
    message = rejected(doc)
    assert "sparktune_space" in message and found in message


def test_a_node_of_no_form_is_named_by_its_path():
    message = rejected('{"sparktune_space": 1, "root": {"dict": {"lr": {"uniform": [0, 1]}}}}')
    assert "/root/dict/lr" in message and "not a search-space node" in message


def test_rule_inside_a_choice_option_names_the_inner_label():
    message = rejected({"m": hp.choice("model", [{"d": hp.randint("depth", 9, 3)}])})
    assert "label 'depth'" in message and "/root/dict/m/options/0/dict/d" in message


def test_space_eval_gives_the_chosen_option_evaluated():
    space = {"m": hp.choice("m", [{"kind": "a", "r": hp.uniform("r", 0, 1)}, "b"]), "k": hp.randint("k", 5)}
    assert space_eval(space, {"m": 0, "r": 0.25, "k": 3}) == {"m": {"kind": "a", "r": 0.25}, "k": 3}
    assert space_eval(space, {"m": 1, "k": 0}) == {"m": "b", "k": 0}


def test_no_jvm_is_needed():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from sparktune.space import hp, validate, space_eval\n"
        "assert validate({'x': hp.uniform('x', 0, 1)}) == ['x']\n"
        "assert space_eval({'x': hp.uniform('x', 0, 1)}, {'x': 0.5}) == {'x': 0.5}\n"
        "assert not any(m.startswith(('pyspark', 'py4j')) for m in sys.modules), 'the JVM side was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_point_that_does_not_fit_names_the_label():
    space = {"k": hp.choice("k", [1, 2])}
    with pytest.raises(SearchSpaceError, match="k"):
        space_eval(space, {"k": 5})
