"""sparktune for pyspark.ml: `sparktune.ml.tuning` mirrors `pyspark.ml.tuning`."""
