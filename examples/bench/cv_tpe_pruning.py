"""The digits task of ../shared/bench/spark_cv_baseline.py (VectorAssembler, StandardScaler,
LogisticRegression; 3 folds, parallelism 2, seed 7), tuned two ways in one Spark session:

  spark      pyspark.ml.tuning.CrossValidator on the 4 x 3 grid (regParam x elasticNetParam)
  sparktune  sparktune.ml.tuning.CrossValidator over the continuous space around that grid,
             TPE sampler, median pruning after the first fold, MAX_TRIALS trials (default 12, as
             many as the grid has maps)

Usage: PYTHONPATH=python python examples/bench/cv_tpe_pruning.py [MAX_TRIALS] [PARALLELISM]
Prints the wall seconds of fit() and the best average accuracy of each, and their ratios.
"""
import math
import os
import sys
import time

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler

from _digits import digits_session
from sparktune.space import hp


def main():
    max_trials = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    par = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    spark, df, features = digits_session("cv-tpe-pruning-bench")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min average, {os.cpu_count()} cpus)", flush=True)

    def pipeline():
        lr = LogisticRegression(maxIter=50)
        return lr, Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="raw"),
                                    StandardScaler(inputCol="raw", outputCol="features"), lr])

    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")
    results = {}

    from pyspark.ml import tuning as pyspark_tuning
    lr, pipe = pipeline()
    grid = (pyspark_tuning.ParamGridBuilder().addGrid(lr.regParam, [1e-4, 1e-3, 1e-2, 1e-1])
            .addGrid(lr.elasticNetParam, [0.0, 0.5, 1.0]).build())
    cv = pyspark_tuning.CrossValidator(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator,
                                       numFolds=3, parallelism=par, seed=7)
    t = time.time()
    model = cv.fit(df)
    results["spark grid"] = (time.time() - t, max(model.avgMetrics), len(grid), len(grid) * 3)

    from sparktune.ml import tuning
    lr, pipe = pipeline()
    cv = tuning.CrossValidator(
        estimator=pipe, evaluator=evaluator, numFolds=3, parallelism=par, seed=7,
        searchSpace={lr.regParam: hp.loguniform("regParam", math.log(1e-4), math.log(1e-1)),
                     lr.elasticNetParam: hp.uniform("elasticNetParam", 0.0, 1.0)},
        sampler='{"kind": "tpe", "n_startup_trials": 4}', maxTrials=max_trials,
        pruning='{"kind": "median", "min_trials": 2}')
    t = time.time()
    model = cv.fit(df)
    wall = time.time() - t
    states = [tr["state"] for tr in model.trials]
    fits = sum(len(tr["metrics"]) for tr in model.trials)
    results["sparktune tpe+pruning"] = (wall, model.bestMetric, len(states), fits)
    print(f"sparktune trials: {states.count('ok')} ok, {states.count('pruned')} pruned", flush=True)

    for name, (wall, best, configs, fold_fits) in results.items():
        print(f"{name:22s} configs={configs:2d} fold_fits={fold_fits:2d} wall_s={wall:7.2f} "
              f"best_avg_accuracy={best:.4f}", flush=True)
    (w0, b0, _, _), (w1, b1, _, _) = results.values()
    print(f"wall ratio sparktune/spark: {w1 / w0:.2f} (target <= 0.5); "
          f"accuracy: {b1:.4f} vs grid's {b0:.4f} ({'>=' if b1 >= b0 else '<'})", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
