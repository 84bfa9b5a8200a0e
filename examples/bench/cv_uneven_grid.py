"""A grid whose (map, fold) pairs do not divide evenly among the slots, side by side on digits
(VectorAssembler, StandardScaler, LogisticRegression; Spark local[2], seed 7): 3 regParam values
x 3 folds on 2 slots, so that the search's tail leaves a slot idle.

  spark      pyspark.ml.tuning.CrossValidator: each fold's maps, then a barrier, then the refit
  sparktune  sparktune.ml.tuning.CrossValidator: a free slot takes the next (map, fold) pair, and
             the slot the tail leaves idle refits the best map so far

Usage: PYTHONPATH=python python examples/bench/cv_uneven_grid.py [REPEATS]
Each fits once to warm up, then REPEATS times, alternating; prints each wall, the medians and
their ratio, and checks that both give the same avgMetrics and best model.
"""
import statistics
import sys
import time

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler

from _digits import digits_session


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    spark, df, features = digits_session("cv-uneven-grid-bench")

    from pyspark.ml import tuning as pyspark_tuning
    from sparktune.ml import tuning as sparktune_tuning

    lr = LogisticRegression(maxIter=50)
    pipe = Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="raw"),
                            StandardScaler(inputCol="raw", outputCol="features"), lr])
    grid = pyspark_tuning.ParamGridBuilder().addGrid(lr.regParam, [1e-3, 1e-2, 1e-1]).build()
    evaluator = MulticlassClassificationEvaluator(metricName="accuracy")

    def fit(module):
        cv = module.CrossValidator(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator, numFolds=3,
                                   parallelism=2, seed=7)
        t = time.time()
        model = cv.fit(df)
        return time.time() - t, model

    walls = {"spark": [], "sparktune": []}
    models = {}
    impls = {"spark": pyspark_tuning, "sparktune": sparktune_tuning}
    for name, module in impls.items():
        wall, models[name] = fit(module)
        print(f"warm-up {name:9s} wall_s={wall:6.2f}", flush=True)
    for i in range(repeats):
        for name in (list(impls) if i % 2 == 0 else list(impls)[::-1]):
            wall, _ = fit(impls[name])
            walls[name].append(wall)
            print(f"run {i + 1} {name:9s} wall_s={wall:6.2f}", flush=True)

    same_metrics = all(abs(a - b) <= 1e-12 for a, b in zip(models["spark"].avgMetrics,
                                                          models["sparktune"].avgMetrics))
    coefficients = [m.bestModel.stages[-1].coefficientMatrix.toArray() for m in models.values()]
    same_best = bool((abs(coefficients[0] - coefficients[1]) <= 1e-12).all())
    medians = {name: statistics.median(w) for name, w in walls.items()}
    print(f"median wall_s: spark {medians['spark']:.2f}, sparktune {medians['sparktune']:.2f}, "
          f"ratio {medians['sparktune'] / medians['spark']:.2f}; same avgMetrics: {same_metrics}; "
          f"same best model: {same_best}", flush=True)
    spark.stop()


if __name__ == "__main__":
    main()
