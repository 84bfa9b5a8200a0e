"""sparktune: hyperparameter tuning for Spark users.

    import sparktune
    from pyspark.sql import SparkSession

    spark = sparktune.configure(SparkSession.builder.master("local[2]")).getOrCreate()

`configure` adds sparktune's jar (the Scala layer with the Rust core inside) to the session, as
delta-spark's `configure_spark_with_delta_pip` does; `sparktune.space.hp` writes search spaces;
`sparktune.ml.tuning.CrossValidator` tunes MLlib estimators.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from typing import List, Tuple

from sparktune import _java_names
from sparktune.errors import (
    InvalidInputError,
    JarNotFoundError,
    NativeError,
    SearchSpaceError,
    SparktuneError,
    StudyStateError,
    TrialStoreError,
)

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "configure",
    "jar_path",
    "InvalidInputError",
    "JarNotFoundError",
    "NativeError",
    "SearchSpaceError",
    "SparktuneError",
    "StudyStateError",
    "TrialStoreError",
]

JAR_ENV = "SPARKTUNE_JAR"
# Named, not imported: the daemon runs as `python -m sparktune.pyspark_daemon`, and a module
# imported by its package's __init__ before that would run twice.
_DAEMON_CONF = "spark.python.daemon.module"
_DAEMON_MODULE = "sparktune.pyspark_daemon"

# pyspark finds sparktune's stages of a saved Pipeline by their JVM class names.
_java_names.register()

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# python/sparktune/ -> the repository root, for a source checkout (pip install -e python).
_REPO_DIR = os.path.dirname(os.path.dirname(_PACKAGE_DIR))


def _candidates() -> List[Tuple[str, List[str]]]:
    """(place looked, jars found there), in the order configure() looks."""
    places = []
    env = os.environ.get(JAR_ENV)
    if env:
        places.append((f"${JAR_ENV}={env}", [env] if os.path.isfile(env) else []))
    else:
        places.append((f"${JAR_ENV} (not set)", []))
    package_glob = os.path.join(_PACKAGE_DIR, "jars", "*.jar")
    places.append((package_glob, sorted(glob.glob(package_glob), key=os.path.getmtime)))
    dev_glob = os.path.join(_REPO_DIR, "scala", "target", "scala-2.13", "sparktune_2.13-*.jar")
    dev = [j for j in glob.glob(dev_glob) if not j.endswith(("-tests.jar", "-sources.jar", "-javadoc.jar"))]
    places.append((dev_glob, sorted(dev, key=os.path.getmtime)))
    return places


def jar_path() -> str:
    """The path of sparktune's jar: $SPARKTUNE_JAR, else the jar inside the installed package
    (sparktune/jars/), else the build of a source checkout (scala/target/scala-2.13/).

    Raises JarNotFoundError naming every place looked. A $SPARKTUNE_JAR naming no file is an error
    (rather than a silent fall-back to another jar)."""
    places = _candidates()
    env = os.environ.get(JAR_ENV)
    if env and not os.path.isfile(env):
        raise JarNotFoundError(f"${JAR_ENV} is set to {env!r}, which is not a file")
    for _, jars in places:
        if jars:
            # Newest last: a stale copy next to a fresh build loses.
            return os.path.abspath(jars[-1])
    looked = "\n".join(f"  - {place}" for place, _ in places)
    raise JarNotFoundError(
        "sparktune's jar was not found. Looked in:\n"
        f"{looked}\n"
        "Build it with `./sbt package` in the repository and copy "
        "scala/target/scala-2.13/sparktune_2.13-*.jar into python/sparktune/jars/, "
        f"or set ${JAR_ENV} to its path."
    )


def configure(builder):
    """Returns `builder` (a `SparkSession.Builder`) with sparktune's jar added to `spark.jars`,
    after any jars already there. Call it before `getOrCreate()`: a running session keeps the
    jars it started with.

    With a local master set on the builder, and the executors running this Python, it also makes
    `sparktune.pyspark_daemon` the session's Python daemon: its workers keep the indexes of the
    zips on their path rather than re-reading them before every task (about 0.14 s a task on
    Python 3.11). A daemon module set on the builder already is left alone."""
    jar = jar_path()
    existing = str(builder._options.get("spark.jars") or "")
    jars = [j for j in existing.split(",") if j.strip()]
    if jar not in jars:
        jars.append(jar)
    builder = builder.config("spark.jars", ",".join(jars))
    if _executors_run_this_python(builder._options):
        builder = builder.config(_DAEMON_CONF, _DAEMON_MODULE)
    return builder


def _executors_run_this_python(options) -> bool:
    """Whether the session's Python workers will start from an interpreter that imports
    sparktune.pyspark_daemon: a local master, no daemon module set already, and the executors'
    Python (pyspark's choice: $PYSPARK_PYTHON, else python3 on the PATH) is this one or has it."""
    if not str(options.get("spark.master") or "").startswith("local"):
        return False
    if options.get(_DAEMON_CONF):
        return False
    python = str(options.get("spark.pyspark.python") or os.environ.get("PYSPARK_PYTHON") or "python3")
    if os.path.realpath(shutil.which(python) or python) == os.path.realpath(sys.executable):
        return True
    try:  # another interpreter (or a shim, as pyenv's): ask it
        probe = subprocess.run([python, "-c", f"import {_DAEMON_MODULE}"], capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0
