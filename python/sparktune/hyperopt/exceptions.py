"""hyperopt's exceptions, by hyperopt's names, so that ``except`` clauses keep working after the
import is switched. A bad search space is sparktune's SearchSpaceError (a ValueError), raised by
the core with the label and the rule."""

from __future__ import annotations

from typing import Any

from sparktune.errors import SearchSpaceError

# hyperopt's BadSearchSpace: sparktune's is the core's verdict on the whole space.
BadSearchSpace = SearchSpaceError


class InvalidTrial(ValueError):
    """A trial document that is not shaped as hyperopt's."""

    def __init__(self, msg: str, obj: Any):
        super().__init__(f"{msg} {obj}")
        self.obj = obj


class InvalidResultStatus(ValueError):
    """The objective returned a dict whose 'status' is missing or not one of STATUS_STRINGS."""

    def __init__(self, result: Any, message: str = ""):
        super().__init__(message or f"the objective's result has an invalid 'status': {result!r}")
        self.result = result


class InvalidLoss(ValueError):
    """The objective returned status 'ok' without a 'loss' that converts to float."""

    def __init__(self, result: Any, message: str = ""):
        super().__init__(message or f"the objective returned status 'ok' without a numeric 'loss': {result!r}")
        self.result = result


class AllTrialsFailed(Exception):
    """No trial finished with status 'ok' (and a loss that is not NaN)."""
