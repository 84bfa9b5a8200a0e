"""Tunes an MLlib pipeline with sparktune: logistic regression on the breast cancer data set.

    python examples/tune_breast_cancer.py          (examples/run builds and installs what it needs)

The pipeline (VectorAssembler -> StandardScaler -> LogisticRegression) is tuned by
sparktune.ml.tuning.CrossValidator, a drop-in for pyspark.ml.tuning.CrossValidator: instead of a grid,
its params are bound to a search space that sparktune's core samples at random (12 trials, 3 folds,
2 at a time on Spark local[2]). Every trial is journaled to examples/output/; run with --resume to
continue a journal instead of starting afresh. Prints one row per trial and the best parameters, then
scores the best model on a held-out test set.
"""

import argparse
import math
import os
import time

from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.sql import SparkSession

import sparktune
from sparktune.ml.tuning import CrossValidator
from sparktune.space import hp

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "breast_cancer.csv")
OUTPUT = os.path.join(HERE, "output")
STORE = os.path.join(OUTPUT, "breast_cancer.journal")


def fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def print_trials(trials, labels, metric):
    """One row per trial: id, state, the params as values, the mean metric over the folds."""
    header = ["trial", "state"] + labels + [f"mean {metric}"]
    rows = []
    for t in trials:
        result = f"{t['value']:.4f}" if t["value"] is not None else (t["error"] or "-")[:60]
        rows.append([str(t["id"]), t["state"]] + [fmt(t["values"].get(label)) for label in labels] + [result])
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        # The state column reads left to right; numbers line up on the right.
        return "  ".join(c.ljust(w) if i == 1 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--resume", action="store_true", help="continue the journal in examples/output/")
    args = parser.parse_args()

    builder = (SparkSession.builder.master("local[2]").appName("sparktune-breast-cancer")
               .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", "2"))
    spark = sparktune.configure(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    data = spark.read.csv(DATA, header=True, inferSchema=True)
    # A held-out test set, for an honest score of the chosen model.
    train, test = data.randomSplit([0.8, 0.2], seed=7)
    train, test = train.cache(), test.cache()
    features = [c for c in data.columns if c != "label"]

    lr = LogisticRegression()
    pipeline = Pipeline(stages=[
        VectorAssembler(inputCols=features, outputCol="raw"),
        StandardScaler(inputCol="raw", outputCol="features"),
        lr,
    ])
    space = {
        lr.regParam: hp.loguniform("regParam", math.log(1e-4), math.log(1.0)),
        lr.elasticNetParam: hp.uniform("elasticNetParam", 0.0, 1.0),
        lr.maxIter: hp.choice("maxIter", [10, 25, 50]),
        lr.fitIntercept: hp.choice("fitIntercept", [True, False]),
    }
    evaluator = BinaryClassificationEvaluator(metricName="areaUnderROC")

    os.makedirs(OUTPUT, exist_ok=True)
    if not args.resume and os.path.exists(STORE):
        os.remove(STORE)
    cv = CrossValidator(estimator=pipeline, evaluator=evaluator, searchSpace=space,
                        maxTrials=args.trials, numFolds=3, parallelism=2, seed=42, trialStore=STORE)

    print(f"tuning: {args.trials} trials of {len(space)} params, 3 folds each, 2 at a time ...", flush=True)
    started = time.time()
    model = cv.fit(train)
    elapsed = time.time() - started

    labels = [expr.label for expr in space.values()]
    print()
    print_trials(model.trials, labels, "AUC")
    best = {t["id"]: t for t in model.trials}[model.trialIds[model.bestIndex]]
    print()
    ran = sum(1 for t in model.trials if t["started_ms"] >= started * 1000)
    resumed = f", {len(model.trials) - ran} resumed from the store" if ran < len(model.trials) else ""
    print(f"{ran} trials x 3 folds in {elapsed:.1f} s{resumed}")
    print(f"best trial {best['id']}: mean AUC {model.bestMetric:.4f}")
    for param, value in sorted(model.bestParams.items(), key=lambda kv: kv[0].name):
        print(f"  {param.name} = {fmt(value)}")
    test_auc = evaluator.evaluate(model.transform(test))
    print(f"held-out test AUC of the best model: {test_auc:.4f}")
    print(f"trial store: {os.path.relpath(STORE)}")
    spark.stop()


if __name__ == "__main__":
    main()
