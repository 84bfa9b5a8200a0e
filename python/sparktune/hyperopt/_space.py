"""A hyperopt-style space made ready for the core: its schema-1 document, its labels, and the
Python objects JSON cannot carry.

hyperopt hands the objective the very objects of the space (``hp.choice("m", [SVC, (64, 32)])``
gives the class, the tuple). The core only knows JSON, so such a constant travels as a placeholder
(``{"const": {"__sparktune_object__": k}}``) and is put back into the values here; a tuple holding
hyperparameters travels as a marked list and comes back a tuple, and ``scope.int(hp...)`` as a
marked dict whose value is cast on the way back. Placeholders are numbered in the
order the space is walked, so the same space gives the same document (a resumed journal matches).
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

from sparktune import _native
from sparktune.hyperopt.pyll.base import CASTS, Cast
from sparktune.space import Expr, to_node

OBJECT_KEY = "__sparktune_object__"
TUPLE_KEY = "__sparktune_tuple__"
CAST_KEY = "__sparktune_cast__"  # {CAST_KEY: {"int": node}}: scope.int(node)

_JSON_SCALARS = (str, int, float, bool, type(None))


def _is_numpy_scalar(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "item") and getattr(value, "ndim", None) == 0


def _foreign(value: Any) -> Optional[str]:
    """What to tell a user whose space holds another library's hyperparameter."""
    module = type(value).__module__ or ""
    if module.startswith("hyperopt"):
        return (
            f"the space holds a hyperopt object ({type(value).__name__} from {module}): build it with "
            "sparktune.hyperopt.hp (from sparktune.hyperopt import hp), whose functions take the same arguments"
        )
    return None


def _refuse_foreign(value: Any, depth: int = 0) -> None:
    """Raises TypeError when the space holds another library's hyperparameter anywhere (it would
    otherwise pass as an opaque constant)."""
    hint = _foreign(value)
    if hint:
        raise TypeError(hint)
    if depth > 100:
        return
    if isinstance(value, Cast):
        _refuse_foreign(value.inner, depth + 1)
    elif isinstance(value, Expr):
        for option in value.options or ():
            _refuse_foreign(option, depth + 1)
    elif isinstance(value, dict):
        for v in value.values():
            _refuse_foreign(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _refuse_foreign(v, depth + 1)


def _json_constant(value: Any) -> bool:
    """Whether the core can carry `value` as a constant and give back an equal Python value."""
    if isinstance(value, _JSON_SCALARS):
        return True
    if _is_numpy_scalar(value):
        return True
    if type(value) is list:
        return all(_json_constant(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _json_constant(v) for k, v in value.items())
    return False


def _has_expr(value: Any) -> bool:
    if isinstance(value, (Expr, Cast)):
        return True
    if isinstance(value, dict):
        return any(_has_expr(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_has_expr(v) for v in value)
    return False


class CompiledSpace:
    """`space` (hp expressions inside dicts, lists, tuples, constants) as the core receives it.

    `document` is the schema-1 JSON object, `labels` its labels in first-appearance order (the
    core validated the space: an invalid one raised SearchSpaceError naming the label)."""

    def __init__(self, space: Any):
        self.space = space
        self.objects: List[Any] = []
        self._marked = False
        _refuse_foreign(space)
        prepared = self._prepare(space)
        self.document: Dict[str, Any] = {"sparktune_space": 1, "root": to_node(prepared)}
        self.labels: List[str] = _native.validate_space(self.document)

    def _prepare(self, value: Any) -> Any:
        """`value` with the constants the core cannot carry replaced by placeholders."""
        if isinstance(value, Cast):
            self._marked = True
            return {CAST_KEY: {value.kind: self._prepare(value.inner)}}
        if isinstance(value, Expr):
            if value.options is None:
                return value
            options = [self._prepare(o) for o in value.options]
            if all(a is b for a, b in zip(options, value.options)):
                return value
            return Expr(value.kind, value.label, value.args, options=options, probabilities=value.probabilities)
        if not _has_expr(value):
            if _json_constant(value):
                return value
            if isinstance(value, float) and not math.isfinite(value):
                return value  # to_node refuses it with the path
            return self._placeholder(value)
        if isinstance(value, dict):
            if any(type(k) is not str for k in value):
                # Keys become JSON strings; a dict keyed otherwise holding hyperparameters would
                # come back with other keys.
                raise TypeError(f"a dict in the space holding hyperparameters must have str keys, got {list(value)!r}")
            return {k: self._prepare(v) for k, v in value.items()}
        if isinstance(value, tuple):
            self._marked = True
            return {TUPLE_KEY: [self._prepare(v) for v in value]}
        return [self._prepare(v) for v in value]

    def _placeholder(self, value: Any) -> Dict[str, int]:
        self._marked = True
        self.objects.append(value)
        return {OBJECT_KEY: len(self.objects) - 1}

    def values(self, values: Any) -> Any:
        """The core's values JSON with the placeholders replaced by the space's own objects."""
        if not self._marked:
            return values
        return self._restore(values)

    def _restore(self, value: Any) -> Any:
        if type(value) is dict:
            if len(value) == 1:
                if OBJECT_KEY in value:
                    return self.objects[value[OBJECT_KEY]]
                if TUPLE_KEY in value:
                    return tuple(self._restore(v) for v in value[TUPLE_KEY])
                if CAST_KEY in value:
                    [(kind, inner)] = value[CAST_KEY].items()
                    return CASTS[kind](self._restore(inner))
            return {k: self._restore(v) for k, v in value.items()}
        if type(value) is list:
            return [self._restore(v) for v in value]
        return value

    def evaluate(self, point: Dict[str, Any]) -> Any:
        """hyperopt's space_eval: the values at a raw point (label -> number; a choice's number is
        its option index); labels inactive at the point are ignored."""
        return self.values(_native.space_eval(self.document, point))

    def point_of(self, doc_vals: Dict[str, list]) -> Dict[str, Any]:
        """The raw point of a document's misc['vals'] (the active labels)."""
        return {label: v[0] for label, v in doc_vals.items() if v}
