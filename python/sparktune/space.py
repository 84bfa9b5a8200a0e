"""Search spaces, written as hyperopt writes them, sent to the core as schema-1 JSON.

    from sparktune.space import hp

    space = {
        "lr": hp.loguniform("lr", math.log(1e-4), 0.0),
        "model": hp.choice("model", [
            {"kind": "linear", "reg": hp.uniform("reg", 0.0, 1.0)},
            {"kind": "tree", "depth": hp.randint("depth", 2, 12)},
        ]),
    }

`hp.*` return `Expr` nodes; plain dicts, lists and tuples around them become dict and list nodes,
anything else a constant. Nothing is validated here: the core checks the space when it receives it
and its error (a `sparktune.SearchSpaceError`) names the label and the rule. The one exception is a
NaN or infinite number, which JSON cannot carry: it is refused while encoding, naming the label in
the core's words.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

from sparktune import _native
from sparktune.errors import SearchSpaceError

SCHEMA_VERSION = 1

__all__ = ["Expr", "hp", "to_node", "to_json", "validate", "validate_json", "space_eval"]


class Expr:
    """One hyperparameter: its kind ("uniform", "choice", ...), label, numeric arguments, and for
    choice/pchoice its options (each any space: an Expr, a dict, a list, a constant)."""

    __slots__ = ("kind", "label", "args", "options", "probabilities")

    def __init__(
        self,
        kind: str,
        label: str,
        args: Optional[Dict[str, Any]] = None,
        options: Optional[Sequence[Any]] = None,
        probabilities: Optional[Sequence[Any]] = None,
    ):
        self.kind = kind
        self.label = label
        self.args = dict(args or {})
        self.options = list(options) if options is not None else None
        self.probabilities = list(probabilities) if probabilities is not None else None

    def __repr__(self) -> str:
        parts = [repr(self.label)] + [repr(v) for v in self.args.values()]
        if self.probabilities is not None:
            parts.append(repr(list(zip(self.probabilities, self.options))))
        elif self.options is not None:
            parts.append(repr(self.options))
        return f"hp.{self.kind}({', '.join(parts)})"

    def to_node(self) -> Dict[str, Any]:
        """This expression as a schema-1 NODE (a JSON-ready dict)."""
        return to_node(self)


class _Hp:
    """hyperopt's `hp`, with its signatures: each function returns an :class:`Expr`."""

    @staticmethod
    def uniform(label: str, low: float, high: float) -> Expr:
        """A float drawn uniformly in [low, high]."""
        return Expr("uniform", label, {"low": low, "high": high})

    @staticmethod
    def loguniform(label: str, low: float, high: float) -> Expr:
        """exp(uniform(low, high)): the bounds are in log space."""
        return Expr("loguniform", label, {"low": low, "high": high})

    @staticmethod
    def quniform(label: str, low: float, high: float, q: float) -> Expr:
        """round(uniform(low, high) / q) * q, a float."""
        return Expr("quniform", label, {"low": low, "high": high, "q": q})

    @staticmethod
    def qloguniform(label: str, low: float, high: float, q: float) -> Expr:
        """round(exp(uniform(low, high)) / q) * q."""
        return Expr("qloguniform", label, {"low": low, "high": high, "q": q})

    @staticmethod
    def normal(label: str, mu: float, sigma: float) -> Expr:
        """A float drawn from N(mu, sigma)."""
        return Expr("normal", label, {"mu": mu, "sigma": sigma})

    @staticmethod
    def lognormal(label: str, mu: float, sigma: float) -> Expr:
        """exp(normal(mu, sigma))."""
        return Expr("lognormal", label, {"mu": mu, "sigma": sigma})

    @staticmethod
    def qnormal(label: str, mu: float, sigma: float, q: float) -> Expr:
        """round(normal(mu, sigma) / q) * q."""
        return Expr("qnormal", label, {"mu": mu, "sigma": sigma, "q": q})

    @staticmethod
    def qlognormal(label: str, mu: float, sigma: float, q: float) -> Expr:
        """round(exp(normal(mu, sigma)) / q) * q."""
        return Expr("qlognormal", label, {"mu": mu, "sigma": sigma, "q": q})

    @staticmethod
    def randint(label: str, *bounds: int, **kwargs: int) -> Expr:
        """An integer in [low, high): `randint(label, upper)` (low 0) or `randint(label, low, high)`,
        as hyperopt's (which also takes `upper=` or `low=`/`high=` keywords)."""
        if kwargs:
            bounds = bounds + tuple(kwargs[k] for k in ("low", "high", "upper") if k in kwargs)
        if len(bounds) == 1:
            low, high = 0, bounds[0]
        elif len(bounds) == 2:
            low, high = bounds
        else:
            raise TypeError(f"hp.randint({label!r}, ...) takes upper, or low and high; got {bounds!r}")
        return Expr("randint", label, {"low": low, "high": high})

    @staticmethod
    def uniformint(label: str, low: float, high: float, q: float = 1.0) -> Expr:
        """round(uniform(low, high) / q) * q as an integer."""
        return Expr("uniformint", label, {"low": low, "high": high, "q": q})

    @staticmethod
    def choice(label: str, options: Sequence[Any]) -> Expr:
        """One of `options` (each any space); the point records its index."""
        return Expr("choice", label, options=options)

    @staticmethod
    def pchoice(label: str, p_options: Sequence[Tuple[float, Any]]) -> Expr:
        """One of the options of `[(p, option), ...]`, drawn with probability p."""
        pairs = list(p_options)
        return Expr("pchoice", label, options=[o for _, o in pairs], probabilities=[p for p, _ in pairs])


hp = _Hp()


def _pointer_token(key: str) -> str:
    # RFC 6901, as the core writes its paths.
    return str(key).replace("~", "~0").replace("/", "~1")


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values (JSON's json module knows only those)."""
    if hasattr(value, "tolist") and type(value).__module__.startswith("numpy"):
        return value.tolist()
    return value


def _non_finite(path: str, label: Optional[str], name: str, value: Any) -> SearchSpaceError:
    at = f" (label '{label}')" if label is not None else ""
    return SearchSpaceError(
        f"invalid search space at {path}{at}: {name} is {value}: numbers must be finite "
        "(no NaN or infinity; JSON cannot carry them)"
    )


def _check_const(value: Any, path: str, label: Optional[str]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise _non_finite(path, label, "a constant", value)
    if isinstance(value, dict):
        for k, v in value.items():
            _check_const(v, path, label)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _check_const(v, path, label)


def _number(value: Any, path: str, label: Optional[str], name: str) -> Any:
    value = _plain(value)
    if isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isfinite(value):
        raise _non_finite(path, label, name, value)
    return value


def _node(space: Any, path: str, label: Optional[str]) -> Dict[str, Any]:
    """The NODE of `space` at JSON pointer `path`; `label` is the nearest enclosing hp's, for errors."""
    if isinstance(space, Expr):
        node: Dict[str, Any] = {"hp": space.kind, "label": space.label}
        for name, value in space.args.items():
            node[name] = _number(value, path, space.label, name)
        if space.probabilities is not None:
            node["options"] = [
                {"p": _number(p, f"{path}/options/{i}", space.label, "p"),
                 "value": _node(option, f"{path}/options/{i}/value", space.label)}
                for i, (p, option) in enumerate(zip(space.probabilities, space.options))
            ]
        elif space.options is not None:
            node["options"] = [
                _node(option, f"{path}/options/{i}", space.label) for i, option in enumerate(space.options)
            ]
        return node
    if isinstance(space, dict):
        return {"dict": {
            str(k): _node(v, f"{path}/dict/{_pointer_token(k)}", label) for k, v in space.items()
        }}
    if isinstance(space, (list, tuple)):
        return {"list": [_node(v, f"{path}/list/{i}", label) for i, v in enumerate(space)]}
    value = _plain(space)
    _check_const(value, path, label)
    return {"const": value}


def to_node(space: Any) -> Dict[str, Any]:
    """`space` as a schema-1 NODE: Expr -> hp node, dict -> dict node (keys in order), list or
    tuple -> list node, anything else -> const node."""
    return _node(space, "/root", None)


def to_json(space: Any) -> str:
    """The schema-1 document of `space`: `{"sparktune_space": 1, "root": NODE}`."""
    return json.dumps({"sparktune_space": SCHEMA_VERSION, "root": to_node(space)}, allow_nan=False)


def validate_json(document: str, spark=None) -> List[str]:
    """Has the core check a schema-1 document given as JSON text; returns its labels (first
    appearance order). Raises SearchSpaceError (a ValueError) naming the label (or the JSON path)
    and the rule. The core runs in this process (sparktune._native): no JVM or SparkSession is
    needed; `spark` is accepted for compatibility and not used."""
    return list(_native.validate_space(document))


def validate(space: Any, spark=None) -> List[str]:
    """Has the core check `space`; returns its labels. Raises SearchSpaceError naming the label
    (or the JSON path) and the rule that is broken. No JVM needed (see validate_json)."""
    return validate_json(to_json(space))


def space_eval(space: Any, point: Dict[str, Any], spark=None) -> Any:
    """The value of `space` at `point` (label -> number; a choice's number is its option index),
    as hyperopt's space_eval: choices replaced by their chosen option, evaluated. A point that does
    not fit raises SearchSpaceError naming the label. No JVM needed (see validate_json)."""
    return _native.space_eval(to_json(space), point)


def from_node(node: Dict[str, Any]) -> Any:
    """The space of a schema-1 NODE, the inverse of :func:`to_node`: hp node -> Expr, dict node ->
    dict, list node -> list, const node -> its value (e.g. a search space read back from the JVM)."""
    if not isinstance(node, dict):
        raise SearchSpaceError(f"a search space node is a JSON object, not {node!r}")
    if "hp" in node:
        options = probabilities = None
        if node["hp"] == "pchoice":
            options = [from_node(o["value"]) for o in node["options"]]
            probabilities = [o["p"] for o in node["options"]]
        elif "options" in node:
            options = [from_node(o) for o in node["options"]]
        args = {k: v for k, v in node.items() if k not in ("hp", "label", "options")}
        return Expr(node["hp"], node.get("label"), args, options, probabilities)
    if "dict" in node:
        return {k: from_node(v) for k, v in node["dict"].items()}
    if "list" in node:
        return [from_node(v) for v in node["list"]]
    if "const" in node:
        return node["const"]
    raise SearchSpaceError(f"not a schema-1 node (no hp, dict, list or const): {node!r}")
