"""Python names for sparktune's JVM classes, where pyspark looks for them.

To load a Pipeline's stage (or wrap a JVM stage in `JavaParams._from_java`), pyspark imports the
Python class named after the JVM class, "org.apache.spark" replaced by "pyspark": for sparktune's
`io.sparktune.ml.tuning.CrossValidator` that is module `io.sparktune.ml.tuning`. Python's `io` is
a module, not a package, so no real module can have that name: a stand-in registered in
sys.modules forwards to `sparktune.ml.tuning`, imported on first use.
"""

from __future__ import annotations

import importlib
import sys
import types

# JVM package -> the Python module with the same class names.
_PACKAGES = {"io.sparktune.ml.tuning": "sparktune.ml.tuning"}


class _Forward(types.ModuleType):
    """A module whose attributes are those of `target`, imported when first asked for."""

    def __init__(self, name: str, target: str):
        super().__init__(name, f"stand-in for {target}, for pyspark's lookup of {name} classes")
        self._target = target

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._target), attr)


def register() -> None:
    """Registers the stand-ins (once; a module already there is left alone)."""
    for java_package, python_module in _PACKAGES.items():
        sys.modules.setdefault(java_package, _Forward(java_package, python_module))
