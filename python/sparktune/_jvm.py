"""The JVM side of sparktune as py4j sees it."""

from __future__ import annotations

NOT_ON_JVM = (
    "sparktune's classes are not on this SparkSession's JVM: build the session with "
    "spark = sparktune.configure(SparkSession.builder).getOrCreate() (a session that is already "
    "running keeps the jars it started with)"
)


def java_class(name: str, spark=None):
    """The py4j JavaClass `name` (e.g. "io.sparktune.jni.Native") on the JVM of `spark`, or of the
    active session; a RuntimeError saying how to add sparktune's jar when the class is not there."""
    from py4j.java_gateway import JavaClass
    from pyspark.sql import SparkSession

    spark = spark or SparkSession.getActiveSession()
    if spark is None:
        raise RuntimeError(f"no active SparkSession; {NOT_ON_JVM}")
    found = spark._jvm
    for part in name.split("."):
        found = getattr(found, part)
    if not isinstance(found, JavaClass):
        raise RuntimeError(f"{name} not found. {NOT_ON_JVM}")
    return found
