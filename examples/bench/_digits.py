"""The set-up the digits benches share: Spark local[2] with sparktune's jar, and scikit-learn's
digits (1,797 rows, 64 pixel columns f0..f63 and a label) as a cached DataFrame of 4 partitions,
as ../shared/bench/spark_cv_baseline.py builds it."""
from pyspark.sql import SparkSession
from sklearn.datasets import load_digits

import sparktune


def digits_session(app_name):
    """(spark, df, feature column names) for a bench called `app_name`."""
    builder = (SparkSession.builder.master("local[2]").appName(app_name)
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4"))
    spark = sparktune.configure(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    X, y = load_digits(return_X_y=True)
    cols = [f"f{i}" for i in range(X.shape[1])]
    df = spark.createDataFrame([tuple(map(float, x)) + (float(t),) for x, t in zip(X, y)], cols + ["label"])
    df = df.repartition(4).cache()
    df.count()
    return spark, df, cols
