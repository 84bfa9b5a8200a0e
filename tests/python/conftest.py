"""One local[2] SparkSession for the whole run, with sparktune's jar (found as users find it)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BREAST_CANCER = os.path.join(REPO, "examples", "data", "breast_cancer.csv")


def pytest_collection_modifyitems(items):
    """test_spark_trials.py stops the shared local session for its multi-process cluster (a process
    has one SparkContext, and DataFrames cached on the old one die with it): its tests run last."""
    items.sort(key=lambda item: item.module.__name__.rsplit(".", 1)[-1] == "test_spark_trials")


@pytest.fixture(scope="session")
def spark():
    from pyspark.sql import SparkSession

    import sparktune

    builder = (
        SparkSession.builder.master("local[2]")
        .appName("sparktune-python-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
    )
    session = sparktune.configure(builder).getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def breast_cancer(spark):
    """examples/data/breast_cancer.csv: 569 rows, 30 numeric features and `label` (0/1)."""
    df = spark.read.csv(BREAST_CANCER, header=True, inferSchema=True).cache()
    assert df.count() == 569
    return df


@pytest.fixture()
def pipeline(breast_cancer):
    """VectorAssembler -> StandardScaler -> LogisticRegression, and the LogisticRegression stage."""
    from pyspark.ml import Pipeline
    from pyspark.ml.classification import LogisticRegression
    from pyspark.ml.feature import StandardScaler, VectorAssembler

    features = [c for c in breast_cancer.columns if c != "label"]
    lr = LogisticRegression(maxIter=20)
    stages = [
        VectorAssembler(inputCols=features, outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features"),
        lr,
    ]
    return Pipeline(stages=stages), lr


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def free_port():
    """A port of 127.0.0.1 nothing listens on (for a tracking server that is down)."""
    return _unused_port()


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """`mlflow server` on a free port of 127.0.0.1 (sqlite store, local artifacts), for the whole
    run; its URI. Stopped at the end."""
    pytest.importorskip("mlflow")
    root = tmp_path_factory.mktemp("mlflow")
    port = _unused_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--default-artifact-root", str(root / "art"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 240
        while True:
            assert server.poll() is None, (root / "server.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.time() < deadline, "mlflow server not healthy: " + (root / "server.log").read_text()[-2000:]
            time.sleep(0.5)
        yield uri
    finally:
        os.killpg(server.pid, 15)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
        log.close()
