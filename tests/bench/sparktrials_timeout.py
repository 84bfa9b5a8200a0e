"""How long after its timeout SparkTrials' fmin returns while trials are running, side by side.

Usage: python sparktrials_timeout.py [TIMEOUT_S] [IMPL ...]   IMPL: hyperopt sparktune (default both)
Spark local[2], parallelism 2, every trial sleeping 60 s: at the timeout both slots are busy, so
fmin must cancel them. Prints the wall from fmin's call to its return, minus the timeout."""
import sys
import time

import numpy as np
from pyspark.sql import SparkSession

TIMEOUT = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0


def obj(p):
    import time as _t
    _t.sleep(60)
    return p["x"]


def main():
    impls = sys.argv[2:] or ["hyperopt", "sparktune"]
    spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    for impl in impls:
        mod = __import__("sparktune.hyperopt", fromlist=["fmin"]) if impl == "sparktune" else __import__("hyperopt")
        trials = mod.SparkTrials(parallelism=2, timeout=TIMEOUT, spark_session=spark)
        start = time.time()
        # No trial finishes: return_argmin=False, so that fmin returns None rather than raise.
        mod.fmin(obj, {"x": mod.hp.uniform("x", -5, 5)}, algo=mod.rand.suggest, max_evals=10, trials=trials,
                 rstate=np.random.default_rng(0), show_progressbar=False, return_argmin=False)
        wall = time.time() - start
        print(f"{impl}-sparktrials timeout_s={TIMEOUT} wall_s={wall:.2f} after_timeout_s={wall - TIMEOUT:.2f}",
              flush=True)
        # hyperopt returns without waiting for its cancelled jobs: let them go before the next run.
        tracker = spark.sparkContext.statusTracker()
        while tracker.getActiveJobsIds():
            time.sleep(0.1)
    spark.stop()


if __name__ == "__main__":
    main()
