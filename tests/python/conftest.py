"""One local[2] SparkSession for the whole run, with sparktune's jar (found as users find it)."""

import os

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
