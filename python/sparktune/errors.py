"""sparktune's exceptions, and the translation of the JVM's into them.

The core (Rust) reports through the JVM as Java exceptions of four classes (contract, section 4);
each becomes a Python exception of the matching kind, carrying the core's message unchanged, so that
it names the label, trial or file the way the core wrote it.
"""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional


class SparktuneError(Exception):
    """The base of every sparktune exception: ``except SparktuneError`` catches them all."""


class InvalidInputError(SparktuneError, ValueError):
    """The input was refused: a study config, a point, a trial id, a setting (Java's
    IllegalArgumentException, the core's InvalidInput). The message names the label or field."""


class SearchSpaceError(InvalidInputError):
    """A search space, or a point that does not fit it, was refused. The message names the label
    (or the JSON path where there is none) and the rule that is broken."""


class StudyStateError(SparktuneError, RuntimeError):
    """The input is well formed but the study's state forbids it: a trial told twice, a closed
    study, a search in which no trial succeeded (Java's IllegalStateException)."""


class TrialStoreError(SparktuneError, OSError):
    """A trial store could not be read, written or trusted (Java's IOException). The message
    names the file."""


class NativeError(SparktuneError, RuntimeError):
    """A bug in sparktune's core, or a panic caught at the JNI boundary
    (io.sparktune.jni.SparktuneNativeException)."""


class JarNotFoundError(SparktuneError, FileNotFoundError):
    """sparktune's jar was found in none of the places `sparktune.configure` looks."""


# Most specific first: the first Java class in a throwable's superclass chain that is listed wins.
_JAVA_TO_PYTHON = (
    ("io.sparktune.jni.SparktuneNativeException", NativeError),
    ("java.lang.IllegalArgumentException", SearchSpaceError),
    ("java.lang.IllegalStateException", StudyStateError),
    ("java.io.IOException", TrialStoreError),
)


def _java_throwable(exc: BaseException):
    """The Java throwable behind `exc`: a Py4JJavaError's, or the origin of an exception that
    PySpark's py4j hook converted (pyspark.errors' CapturedException, e.g. IllegalArgumentException)."""
    from py4j.protocol import Py4JJavaError

    if isinstance(exc, Py4JJavaError):
        return exc.java_exception
    return getattr(exc, "_origin", None)


def _class_chain(throwable) -> list:
    names = []
    cls = throwable.getClass()
    while cls is not None and len(names) < 32:
        names.append(cls.getName())
        cls = cls.getSuperclass()
    return names


# Frames of these packages are the runtime's (Predef.require, constructors), not the thrower's.
_RUNTIME_PACKAGES = ("java.", "javax.", "jdk.", "sun.", "scala.")


def _thrown_by_sparktune(throwable) -> bool:
    """Whether sparktune's code threw `throwable` (the first frame outside the Java and Scala
    runtimes is sparktune's). An estimator's own IllegalArgumentException, met while sparktune
    refits it, stays PySpark's exception, as pyspark.ml.tuning users know it."""
    for frame in throwable.getStackTrace():
        name = frame.getClassName()
        if not name.startswith(_RUNTIME_PACKAGES):
            return name.startswith("io.sparktune.")
    return False


def from_java(exc: BaseException) -> Optional[Exception]:
    """sparktune's exception for a Java exception that sparktune's JVM code or core raised through
    py4j, or None for any other (it is then re-raised as PySpark raised it)."""
    throwable = _java_throwable(exc)
    if throwable is None:
        return None
    chain = _class_chain(throwable)
    for java_class, python_class in _JAVA_TO_PYTHON:
        if java_class in chain:
            if python_class is not NativeError and not _thrown_by_sparktune(throwable):
                return None
            message = throwable.getMessage() or chain[0]
            err = python_class(message)
            # Kept for debugging: the JVM's stack trace is one call away.
            err.java_exception = throwable
            return err
    return None


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Runs a block of py4j calls, re-raising the JVM's exceptions as sparktune's own."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors.exceptions.captured import CapturedException

    try:
        yield
    except (Py4JJavaError, CapturedException) as e:
        err = from_java(e)
        if err is None:
            raise
        # As PySpark does for the exceptions it converts: the Python one alone, without the
        # py4j frames (the Java trace stays on err.java_exception).
        raise err from None
