"""The part of hyperopt's pyll that notebooks use on spaces: ``scope.int(...)`` and
``scope.float(...)`` around an hp expression (``scope.int(hp.quniform("depth", 2, 12, 1))``).

sparktune has no pyll graph: a cast is applied to the value the core gives for the expression
inside it, before the objective sees it. The raw point (``trials.vals``, ``argmin``) keeps the
expression's own number, as in hyperopt."""

from __future__ import annotations

import builtins
from typing import Any, Callable

CASTS = {"int": builtins.int, "float": builtins.float}


class Cast:
    """`kind`(`inner`), evaluated on the inner expression's value."""

    __slots__ = ("kind", "inner")

    def __init__(self, kind: str, inner: Any):
        self.kind = kind
        self.inner = inner

    def __repr__(self) -> str:
        return f"scope.{self.kind}({self.inner!r})"


class _Scope:
    """hyperopt's `scope`, reduced to the casts a space needs."""

    @staticmethod
    def int(arg: Any) -> Any:
        """int() of the value (truncation, as Python's int and hyperopt's scope.int)."""
        return _cast("int", arg)

    @staticmethod
    def float(arg: Any) -> Any:
        """float() of the value."""
        return _cast("float", arg)

    def __getattr__(self, name: str) -> Callable:
        raise AttributeError(
            f"scope.{name}: sparktune.hyperopt supports scope.int and scope.float in spaces; other pyll "
            "functions run inside the objective instead"
        )


def _cast(kind: str, arg: Any) -> Any:
    from sparktune.space import Expr

    if isinstance(arg, (Expr, Cast)):
        return Cast(kind, arg)
    return CASTS[kind](arg)  # a constant: cast now


scope = _Scope()
