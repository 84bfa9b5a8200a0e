"""sparktune.configure: where the jar is found, how spark.jars is extended, the error when none is."""

import os
import sys

import pytest
from pyspark.sql import SparkSession

import sparktune


@pytest.fixture()
def no_jar_anywhere(monkeypatch, tmp_path):
    """A package and a checkout without any jar, and no $SPARKTUNE_JAR."""
    monkeypatch.delenv("SPARKTUNE_JAR", raising=False)
    monkeypatch.setattr(sparktune, "_PACKAGE_DIR", str(tmp_path / "site-packages" / "sparktune"))
    monkeypatch.setattr(sparktune, "_REPO_DIR", str(tmp_path / "checkout"))
    return tmp_path


def test_no_jar_is_an_error_naming_every_place_looked(no_jar_anywhere):
    with pytest.raises(sparktune.JarNotFoundError) as err:
        sparktune.configure(SparkSession.builder)
    message = str(err.value)
    assert "SPARKTUNE_JAR" in message
    assert os.path.join(str(no_jar_anywhere), "site-packages", "sparktune", "jars", "*.jar") in message
    assert os.path.join(str(no_jar_anywhere), "checkout", "scala", "target", "scala-2.13") in message
    assert "./sbt package" in message
    assert isinstance(err.value, FileNotFoundError)


def test_env_naming_no_file_is_an_error_naming_it(no_jar_anywhere, monkeypatch):
    missing = str(no_jar_anywhere / "nowhere.jar")
    monkeypatch.setenv("SPARKTUNE_JAR", missing)
    with pytest.raises(sparktune.JarNotFoundError, match="nowhere.jar"):
        sparktune.jar_path()


def test_lookup_order_env_then_package_then_checkout(no_jar_anywhere, monkeypatch):
    dev_dir = no_jar_anywhere / "checkout" / "scala" / "target" / "scala-2.13"
    dev_dir.mkdir(parents=True)
    dev = dev_dir / "sparktune_2.13-0.1.0-SNAPSHOT.jar"
    dev.write_bytes(b"PK")
    (dev_dir / "sparktune_2.13-0.1.0-SNAPSHOT-sources.jar").write_bytes(b"PK")
    (dev_dir / "sparktune_2.13-0.1.0-SNAPSHOT-tests.jar").write_bytes(b"PK")
    assert sparktune.jar_path() == str(dev)

    package_dir = no_jar_anywhere / "site-packages" / "sparktune" / "jars"
    package_dir.mkdir(parents=True)
    packaged = package_dir / "sparktune_2.13-0.1.0.jar"
    packaged.write_bytes(b"PK")
    assert sparktune.jar_path() == str(packaged)

    chosen = no_jar_anywhere / "chosen.jar"
    chosen.write_bytes(b"PK")
    monkeypatch.setenv("SPARKTUNE_JAR", str(chosen))
    assert sparktune.jar_path() == str(chosen)


def test_configure_appends_to_existing_jars_once(no_jar_anywhere, monkeypatch):
    chosen = no_jar_anywhere / "sparktune.jar"
    chosen.write_bytes(b"PK")
    monkeypatch.setenv("SPARKTUNE_JAR", str(chosen))
    builder = SparkSession.builder.config("spark.jars", "/opt/other.jar")
    assert sparktune.configure(builder) is builder
    assert builder._options["spark.jars"] == f"/opt/other.jar,{chosen}"
    # Configuring twice does not list the jar twice.
    sparktune.configure(builder)
    assert builder._options["spark.jars"] == f"/opt/other.jar,{chosen}"


def test_session_reaches_sparktune_classes(spark):
    """The fixture's session, built with configure(), loads sparktune's JVM classes and native core."""
    assert sparktune.jar_path() in spark.conf.get("spark.jars")
    version = spark._jvm.io.sparktune.jni.Native().version()
    assert version.startswith("0.1.0"), version


DAEMON = "spark.python.daemon.module"


def _python_script(path, body):
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_configure_sets_the_daemon_only_where_the_executors_run_a_python_that_has_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PYSPARK_PYTHON", raising=False)
    local = sparktune.configure(SparkSession.builder.master("local[2]"))
    assert local._options[DAEMON] == "sparktune.pyspark_daemon"

    # A cluster's executors may not have sparktune; a master set after configure() is not seen.
    assert DAEMON not in sparktune.configure(SparkSession.builder.master("spark://127.0.0.1:7077"))._options
    assert DAEMON not in sparktune.configure(SparkSession.builder)._options
    # The user's own daemon stays.
    mine = SparkSession.builder.master("local[2]").config(DAEMON, "pyspark.daemon")
    assert sparktune.configure(mine)._options[DAEMON] == "pyspark.daemon"

    # The executors' Python is pyspark's: $PYSPARK_PYTHON; it is asked whether it imports the module.
    without = _python_script(tmp_path / "python-without-sparktune", "exit 1")
    monkeypatch.setenv("PYSPARK_PYTHON", without)
    assert DAEMON not in sparktune.configure(SparkSession.builder.master("local[2]"))._options
    shim = _python_script(tmp_path / "python-shim", f'exec "{sys.executable}" "$@"')
    monkeypatch.setenv("PYSPARK_PYTHON", shim)
    assert sparktune.configure(SparkSession.builder.master("local[2]"))._options[DAEMON] == "sparktune.pyspark_daemon"


def test_python_workers_of_a_configured_local_session_keep_zip_indexes_from_their_first_task(spark):
    """The fixture's session (configure(), local[2]): its Python workers come from sparktune's
    daemon, so even a worker's first task finds kept zip importers, and pyspark's modules that
    were not imported yet still import from pyspark.zip after Spark's invalidate_caches()."""

    def probe(_):
        import importlib
        import sys
        import zipimport

        zips = {p: type(f).__name__ for p, f in sys.path_importer_cache.items()
                if isinstance(f, zipimport.zipimporter)}
        module = importlib.import_module("pyspark.mllib.stat.KernelDensity")
        return zips, module.__file__

    for zips, imported_from in spark.sparkContext.parallelize(range(2), 2).map(probe).collect():
        assert any(path.endswith("pyspark.zip") for path in zips), zips
        assert set(zips.values()) == {"KeptZipIndex"}, zips
        assert "pyspark.zip" in imported_from, imported_from


def test_sql_python_udfs_run_on_sparktunes_daemon(spark):
    """The daemon serves every Python worker of the session, SQL's too: a Python UDF, a pandas UDF
    (Arrow) and mapInPandas give their results."""
    import pandas as pd
    from pyspark.sql import functions as F

    assert spark.conf.get(DAEMON) == "sparktune.pyspark_daemon"
    plus_one = F.udf(lambda x: x + 1, "long")

    @F.pandas_udf("double")
    def half(s: pd.Series) -> pd.Series:
        return s / 2

    ids = spark.range(1000)
    sums = ids.select(plus_one("id").alias("a"), half("id").alias("b")).agg(F.sum("a"), F.sum("b")).first()
    assert (sums[0], sums[1]) == (500500, 249750.0)
    doubled = ids.mapInPandas(lambda frames: (f * 2 for f in frames), "id long").agg(F.sum("id")).first()[0]
    assert doubled == 999000
