"""``from hyperopt.pyll import scope`` for sparktune: scope.int and scope.float (see .base)."""

from sparktune.hyperopt.pyll.base import Cast, scope

__all__ = ["Cast", "scope"]
