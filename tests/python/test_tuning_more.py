"""sparktune.ml.tuning beyond the grid CrossValidator, on examples/data/breast_cancer.csv:
TrainValidationSplit as pyspark's (same split, same validationMetrics), collectSubModels, the TPE
sampler, fold-level pruning recorded as "pruned", and bad input named before any fit."""

import math

import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.tuning import CrossValidator as PySparkCrossValidator
from pyspark.ml.tuning import ParamGridBuilder as PySparkParamGridBuilder
from pyspark.ml.tuning import TrainValidationSplit as PySparkTVS

from sparktune.ml.tuning import (
    CrossValidator,
    ParamGridBuilder,
    TrainValidationSplit,
    TrainValidationSplitModel,
)
from sparktune.space import hp

SEED = 5


def evaluator():
    return BinaryClassificationEvaluator(metricName="areaUnderROC")


def test_param_grid_builder_and_tvs_params_are_pysparks():
    assert ParamGridBuilder is PySparkParamGridBuilder
    ours, theirs = TrainValidationSplit(), PySparkTVS()
    for name in ["trainRatio", "parallelism", "collectSubModels", "estimator", "evaluator"]:
        assert ours.hasParam(name), name
        if theirs.hasDefault(name):
            assert ours.getOrDefault(name) == theirs.getOrDefault(name), name
    assert CrossValidator().getCollectSubModels() is False
    assert CrossValidator(sampler="tpe", timeout=30, pruning="median").getPruning() == "median"


def test_tvs_validation_metrics_and_sub_models_equal_pysparks(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.1]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    common = dict(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), trainRatio=0.7, seed=SEED,
                  collectSubModels=True)
    theirs = PySparkTVS(**common).fit(breast_cancer)
    ours = TrainValidationSplit(parallelism=2, **common).fit(breast_cancer)
    assert isinstance(ours, TrainValidationSplitModel)
    assert ours.validationMetrics == pytest.approx(theirs.validationMetrics, abs=1e-12)
    assert len({round(m, 9) for m in ours.validationMetrics}) > 1
    assert ours.bestParams == grid[max(range(4), key=lambda i: theirs.validationMetrics[i])]
    assert len(ours.subModels) == 4
    for mine, expected in zip(ours.subModels, theirs.subModels):
        assert list(mine.stages[-1].coefficients) == pytest.approx(list(expected.stages[-1].coefficients),
                                                                   abs=1e-9)
    assert "prediction" in ours.transform(breast_cancer).columns


def test_coalesced_splits_keep_pysparks_rows_and_metrics(spark, breast_cancer, pipeline):
    # PySpark splits by a rand(seed) column, drawn per partition: coalescing the split to fewer
    # partitions (2 cores, 2 trials at once: 1) must keep each row on its side.
    spread = breast_cancer.repartition(4).cache()
    pipe, lr = pipeline
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.1]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    common = dict(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), trainRatio=0.7, seed=SEED)
    theirs = PySparkTVS(**common).fit(spread)
    assert TrainValidationSplit().getFoldPartitions() == 0
    for fold_partitions in (0, 4):  # 0: coalesced to 1 partition; 4: kept
        tvs = TrainValidationSplit(parallelism=2, foldPartitions=fold_partitions, **common)
        assert tvs._to_java_tuner(spark).getFoldPartitions() == fold_partitions
        ours = tvs.fit(spread)
        assert ours.validationMetrics == pytest.approx(theirs.validationMetrics, abs=1e-9), fold_partitions
        assert len({round(m, 9) for m in ours.validationMetrics}) > 1
    with pytest.raises(Exception, match="foldPartitions"):
        TrainValidationSplit(foldPartitions=-1, **common).fit(spread)


def test_cv_collect_sub_models_is_folds_by_maps(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.01, 0.1]).build()
    common = dict(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), numFolds=2, seed=SEED,
                  collectSubModels=True)
    theirs = PySparkCrossValidator(**common).fit(breast_cancer)
    ours = CrossValidator(parallelism=2, **common).fit(breast_cancer)
    assert ours.avgMetrics == pytest.approx(theirs.avgMetrics, abs=1e-12)
    assert [len(f) for f in ours.subModels] == [2, 2]
    for k in range(2):
        for i in range(2):
            assert list(ours.subModels[k][i].stages[-1].coefficients) == pytest.approx(
                list(theirs.subModels[k][i].stages[-1].coefficients), abs=1e-9)
    assert CrossValidator(estimator=pipe, estimatorParamMaps=grid[:1], evaluator=evaluator(),
                          numFolds=2).fit(breast_cancer).subModels is None


def test_tpe_search_and_median_pruning(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    # maxIter 0 learns nothing (AUC 0.5): the median stopping of the core prunes it after one fold.
    grid = [{lr.regParam: r, lr.maxIter: 10} for r in (0.001, 0.01, 0.1)] + [{lr.regParam: 0.01, lr.maxIter: 0}]
    model = CrossValidator(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), numFolds=3, seed=SEED,
                           pruning="median").fit(breast_cancer)
    assert [t["state"] for t in model.trials] == ["ok", "ok", "ok", "pruned"]
    assert "median" in model.trials[3]["error"]
    assert math.isnan(model.avgMetrics[3]) and not math.isnan(model.foldMetrics[3][0])

    tpe = CrossValidator(estimator=pipe, evaluator=evaluator(), numFolds=2, seed=SEED, parallelism=2,
                         searchSpace={lr.regParam: hp.loguniform("regParam", math.log(1e-4), 0.0)},
                         sampler="tpe", maxTrials=4).fit(breast_cancer)
    assert len(tpe.avgMetrics) == 4 and all(0.5 < m <= 1.0 for m in tpe.avgMetrics)
    assert 1e-4 <= tpe.bestParams[lr.regParam] <= 1.0


def test_bad_input_is_named_before_any_fit(spark, breast_cancer, pipeline):
    from pyspark.ml.classification import LogisticRegression

    pipe, lr = pipeline
    stranger = LogisticRegression()
    with pytest.raises(Exception, match=f"{stranger.uid}.regParam"):
        CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2,
                       searchSpace={stranger.regParam: hp.uniform("r", 0.0, 1.0)}).fit(breast_cancer)
    with pytest.raises(Exception, match="metricName"):
        CrossValidator(estimator=pipe, evaluator=BinaryClassificationEvaluator(metricName="accuracy"),
                       maxTrials=2, searchSpace={lr.regParam: hp.uniform("r", 0.0, 1.0)}).fit(breast_cancer)
    with pytest.raises(Exception, match="maxIter"):
        CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2,
                       searchSpace={lr.maxIter: hp.uniform("iters", 1.0, 5.0)}).fit(breast_cancer)
    with pytest.raises(Exception, match="slack"):
        CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2, pruning='{"kind": "bandit"}',
                       searchSpace={lr.regParam: hp.uniform("r", 0.0, 1.0)}).fit(breast_cancer)


def test_model_selection_across_classifiers(spark, breast_cancer, pipeline):
    from pyspark.ml.classification import GBTClassifier, RandomForestClassifier

    pipe, lr = pipeline
    rf, gbt = RandomForestClassifier(numTrees=10), GBTClassifier(maxIter=5)
    space = {lr: hp.choice("classifier", [
        (lr, {lr.regParam: hp.loguniform("lr.regParam", math.log(1e-3), 0.0)}),
        (rf, {rf.maxDepth: hp.randint("rf.maxDepth", 2, 6)}),
        gbt,
    ])}
    model = CrossValidator(estimator=pipe, evaluator=evaluator(), searchSpace=space, maxTrials=5, numFolds=2,
                           seed=SEED, parallelism=2).fit(breast_cancer)
    assert [t["state"] for t in model.trials] == ["ok"] * 5
    chosen = [t["point"]["classifier"] for t in model.trials]
    assert len(set(chosen)) >= 2, chosen
    best = model.trials[model.bestIndex]
    kind = [type(lr), type(rf), type(gbt)][int(best["point"]["classifier"])]
    assert isinstance(model.bestParams[pipe.stages][-1], kind)
    assert type(model.bestModel.stages[-1]).__name__.startswith(kind.__name__.replace("Classifier", ""))
    with pytest.raises(TypeError, match="hp.choice"):
        CrossValidator(estimator=pipe, evaluator=evaluator(), searchSpace={lr: rf}).fit(breast_cancer)
