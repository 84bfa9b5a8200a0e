"""sparktune.configure: where the jar is found, how spark.jars is extended, the error when none is."""

import os

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
