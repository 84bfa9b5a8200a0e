"""save / load of sparktune.ml.tuning's CrossValidator, TrainValidationSplit and their models from PySpark, alone and
as stages of a pyspark Pipeline, on examples/data/breast_cancer.csv; the files are the JVM's, so
Scala reads what Python saved."""

import json
import math
import os

import pytest
from pyspark.errors import IllegalArgumentException
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.feature import StandardScaler, VectorAssembler
from pyspark.ml.tuning import CrossValidator as PySparkCrossValidator

from sparktune.ml.tuning import (
    CrossValidator,
    CrossValidatorModel,
    ParamGridBuilder,
    TrainValidationSplit,
    TrainValidationSplitModel,
)
from sparktune.space import from_node, hp, to_node


def evaluator():
    return BinaryClassificationEvaluator(metricName="areaUnderPR")


def keyed(param_map):
    """A param map as {(stage uid, param name): value}, comparable across loads."""
    return {(p.parent, p.name): v for p, v in param_map.items()}


def predictions(df):
    return [(r.prediction, float(r.probability[1])) for r in df.select("prediction", "probability").collect()]


def metadata(path):
    part = next(f for f in sorted(os.listdir(os.path.join(path, "metadata"))) if f.startswith("part-"))
    with open(os.path.join(path, "metadata", part)) as f:
        return json.loads(f.read())


def assert_same_tuner(a, b, same_uid=True):
    assert type(b) is type(a) and (b.uid == a.uid) == same_uid
    for name in ("numFolds", "seed", "parallelism", "foldCol", "maxTrials", "trialStore"):
        assert b.getOrDefault(name) == a.getOrDefault(name), name
    est_a, est_b = a.getEstimator(), b.getEstimator()
    assert type(est_b) is type(est_a)
    assert [s.uid for s in est_b.getStages()] == [s.uid for s in est_a.getStages()]
    assert est_b.getStages()[-1].getMaxIter() == est_a.getStages()[-1].getMaxIter()
    assert b.getEvaluator().uid == a.getEvaluator().uid
    assert b.getEvaluator().getMetricName() == a.getEvaluator().getMetricName()
    assert b.isSet(b.estimatorParamMaps) == a.isSet(a.estimatorParamMaps)
    if a.isSet(a.estimatorParamMaps):
        assert [keyed(m) for m in b.getEstimatorParamMaps()] == [keyed(m) for m in a.getEstimatorParamMaps()]
    assert b.isSet(b.searchSpace) == a.isSet(a.searchSpace)
    if a.isSet(a.searchSpace):
        assert {(p.parent, p.name): repr(e) for p, e in b.getSearchSpace().items()} == \
            {(p.parent, p.name): repr(e) for p, e in a.getSearchSpace().items()}


def assert_same_results(a, b):
    assert type(b) is type(a) and b.uid == a.uid

    def same(xs, ys):
        return len(xs) == len(ys) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(xs, ys))

    assert same(b.avgMetrics, a.avgMetrics) and same(b.stdMetrics, a.stdMetrics)
    assert all(same(x, y) for x, y in zip(b.foldMetrics, a.foldMetrics))
    assert (b.bestIndex, b.trialIds, b.trials) == (a.bestIndex, a.trialIds, a.trials)
    assert keyed(b.bestParams) == keyed(a.bestParams)


def grid_cv(pipe, lr):
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.2]).build()
    return CrossValidator(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), numFolds=2,
                          seed=4, parallelism=2)


def test_from_node_inverts_to_node():
    space = {"a": hp.pchoice("p", [(0.3, hp.uniform("u", 0, 1)), (0.7, "x")]),
             "b": [1, hp.randint("r", 3)], "c": hp.choice("c", [{"d": hp.normal("n", 0, 2)}, None])}
    assert to_node(from_node(to_node(space))) == to_node(space)
    assert repr(from_node(to_node(hp.qloguniform("q", -2, 0, 0.5)))) == "hp.qloguniform('q', -2, 0, 0.5)"


def test_grid_cross_validator_round_trips_and_scala_reads_it(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    cv = grid_cv(pipe, lr)
    path = str(tmp_path / "cv")
    cv.save(path)
    md = metadata(path)
    assert md["class"] == "io.sparktune.ml.tuning.CrossValidator" and md["uid"] == cv.uid
    assert md["sparkVersion"] == spark.version
    assert [[e["name"] for e in m] for m in md["paramMap"]["estimatorParamMaps"]] == [["regParam"]] * 2

    loaded = CrossValidator.load(path)
    assert_same_tuner(cv, loaded)
    # The same files for the JVM: Scala's CrossValidator.load reads what Python saved.
    java_cv = spark._jvm.io.sparktune.ml.tuning.CrossValidator.load(path)
    assert java_cv.uid() == cv.uid and java_cv.getNumFolds() == 2 and len(java_cv.getEstimatorParamMaps()) == 2

    ours, theirs = cv.fit(breast_cancer), loaded.fit(breast_cancer)
    assert theirs.avgMetrics == ours.avgMetrics


def test_random_model_round_trips_with_space_store_and_results(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    store = str(tmp_path / "study.journal")
    space = {lr.regParam: hp.loguniform("reg", math.log(1e-4), 0.0),
             lr.elasticNetParam: hp.choice("en", [0.0, 0.5, 1.0]),
             lr.maxIter: hp.uniformint("maxIter", 5, 15)}
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), searchSpace=space, numFolds=2, seed=8,
                        maxTrials=3, trialStore=store)
    cv_path = str(tmp_path / "random-cv")
    cv.write().save(cv_path)
    loaded = CrossValidator.load(cv_path)
    assert_same_tuner(cv, loaded)
    assert loaded.getTrialStore() == os.path.abspath(store)

    model = loaded.fit(breast_cancer)
    assert len(model.trials) == 3 and os.path.getsize(store) > 0
    path = str(tmp_path / "random-model")
    model.save(path)
    back = CrossValidatorModel.load(path)
    assert_same_results(model, back)
    # The model carries its tuner's params, as pyspark's does.
    assert_same_tuner(loaded, CrossValidator._from_java(back._to_java()), same_uid=False)
    assert back.getTrialStore() == os.path.abspath(store)
    assert type(back.bestModel) is PipelineModel
    assert predictions(back.transform(breast_cancer)) == predictions(model.transform(breast_cancer))
    # The saved tuner resumes from the store: nothing left to run.
    assert [t["id"] for t in CrossValidator.load(cv_path).fit(breast_cancer).trials] == [0, 1, 2]


def test_model_overwrite_and_nan_metrics(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    model = grid_cv(pipe, lr).fit(breast_cancer)
    path = str(tmp_path / "model")
    model.save(path)
    with pytest.raises(Exception, match="already exists"):
        model.save(path)
    # A failed trial's metric is NaN: it survives the round trip (JSON has no NaN).
    changed = model.copy()
    changed.avgMetrics = [float("nan"), model.avgMetrics[1]]
    changed.foldMetrics = [[float("nan")] * 2, model.foldMetrics[1]]
    changed.bestIndex = 1
    changed.bestParams = model.getEstimatorParamMaps()[1]
    changed.write().overwrite().save(path)
    back = CrossValidatorModel.load(path)
    assert_same_results(changed, back)
    assert math.isnan(back.avgMetrics[0]) and back.bestIndex == 1
    assert metadata(path)["avgMetrics"][0] == "NaN"


def test_pyspark_pipeline_with_sparktune_stage_saves_and_loads(spark, breast_cancer, tmp_path):
    features = [c for c in breast_cancer.columns if c != "label"]
    lr = LogisticRegression(maxIter=10)
    cv = CrossValidator(estimator=lr, estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, [0.01, 0.3]).build(),
                        evaluator=evaluator(), numFolds=2, seed=2)
    pipe = Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="raw"),
                            StandardScaler(inputCol="raw", outputCol="features"), cv])
    path = str(tmp_path / "pipeline")
    pipe.save(path)
    loaded = Pipeline.load(path)
    stage = loaded.getStages()[-1]
    assert type(stage) is CrossValidator and stage.uid == cv.uid
    assert stage.getNumFolds() == 2 and stage.getSeed() == 2
    assert [keyed(m) for m in stage.getEstimatorParamMaps()] == [keyed(m) for m in cv.getEstimatorParamMaps()]

    fitted = pipe.fit(breast_cancer)
    model_path = str(tmp_path / "pipeline-model")
    fitted.save(model_path)
    back = PipelineModel.load(model_path)
    assert type(back.stages[-1]) is CrossValidatorModel
    assert_same_results(fitted.stages[-1], back.stages[-1])
    assert predictions(back.transform(breast_cancer)) == predictions(fitted.transform(breast_cancer))
    # The JVM reads the same PipelineModel.
    java_model = spark._jvm.org.apache.spark.ml.PipelineModel.load(model_path)
    assert java_model.stages()[2].getClass().getName() == "io.sparktune.ml.tuning.CrossValidatorModel"


def test_loading_something_else_names_the_path(spark, pipeline, tmp_path):
    pipe, lr = pipeline
    theirs = str(tmp_path / "pyspark-cv")
    PySparkCrossValidator(estimator=pipe, estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, [0.1]).build(),
                          evaluator=evaluator()).save(theirs)
    with pytest.raises(IllegalArgumentException, match="org.apache.spark.ml.tuning.CrossValidator") as err:
        CrossValidator.load(theirs)
    assert theirs in str(err.value)

    ours = str(tmp_path / "cv")
    grid_cv(pipe, lr).save(ours)
    with pytest.raises(IllegalArgumentException, match="io.sparktune.ml.tuning.CrossValidatorModel") as err:
        CrossValidatorModel.load(ours)
    assert ours in str(err.value)

    missing = str(tmp_path / "nothing")
    with pytest.raises(IllegalArgumentException, match="no Spark ML metadata") as err:
        CrossValidator.load(missing)
    assert missing in str(err.value)


def same_floats(xs, ys):
    return len(xs) == len(ys) and all(x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(xs, ys))


def coefficients(model):
    return list(model.stages[-1].coefficients)


def test_search_params_and_sub_models_of_a_cross_validator_round_trip(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), numFolds=2, seed=6, maxTrials=3, sampler="tpe",
                        timeout=120.0, pruning="median", collectSubModels=True, foldPartitions=3,
                        searchSpace={lr.regParam: hp.loguniform("reg", math.log(1e-4), 0.0)})
    path = str(tmp_path / "cv")
    cv.save(path)
    assert metadata(path)["paramMap"]["sampler"] == "tpe"
    loaded = CrossValidator.load(path)
    for name in ("sampler", "timeout", "pruning", "collectSubModels", "maxTrials", "foldPartitions"):
        assert loaded.getOrDefault(name) == cv.getOrDefault(name), name

    model = loaded.fit(breast_cancer)
    assert len(model.subModels) == 2 and len(model.subModels[0]) == len(model.avgMetrics)
    model_path = str(tmp_path / "cv-model")
    model.save(model_path)
    assert metadata(model_path)["persistSubModels"] is True
    assert os.path.isdir(os.path.join(model_path, "subModels", "fold1", "0", "metadata"))
    back = CrossValidatorModel.load(model_path)
    assert_same_results(model, back)
    assert back.getSampler() == "tpe" and back.getPruning() == "median" and back.getCollectSubModels()
    # A pruned trial's sub-model is None: saved as none, loaded as None.
    subs = [[[coefficients(m) if m is not None else None for m in fold] for fold in x.subModels] for x in (back, model)]
    assert subs[0] == subs[1] and any(c is not None for fold in subs[1] for c in fold)

    # As Spark's writers: persistSubModels=false leaves them out, and the loaded model has none.
    bare = str(tmp_path / "cv-model-bare")
    model.write().option("persistSubModels", "false").save(bare)
    assert not os.path.exists(os.path.join(bare, "subModels")) and CrossValidatorModel.load(bare).subModels is None


def test_train_validation_split_round_trips_and_scala_reads_it(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.2]).addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
    tvs = TrainValidationSplit(estimator=pipe, estimatorParamMaps=grid, evaluator=evaluator(), trainRatio=0.6,
                               seed=11, parallelism=2, collectSubModels=True)
    path = str(tmp_path / "tvs")
    tvs.save(path)
    md = metadata(path)
    assert md["class"] == "io.sparktune.ml.tuning.TrainValidationSplit" and md["paramMap"]["trainRatio"] == 0.6
    loaded = TrainValidationSplit.load(path)
    assert type(loaded) is TrainValidationSplit and loaded.uid == tvs.uid
    assert loaded.getTrainRatio() == 0.6 and loaded.getSeed() == 11 and loaded.getCollectSubModels()
    assert [keyed(m) for m in loaded.getEstimatorParamMaps()] == [keyed(m) for m in grid]
    java_tvs = spark._jvm.io.sparktune.ml.tuning.TrainValidationSplit.load(path)
    assert java_tvs.uid() == tvs.uid and java_tvs.getTrainRatio() == 0.6

    model = loaded.fit(breast_cancer)
    assert model.validationMetrics == tvs.fit(breast_cancer).validationMetrics
    model_path = str(tmp_path / "tvs-model")
    model.save(model_path)
    back = TrainValidationSplitModel.load(model_path)
    assert type(back) is TrainValidationSplitModel and back.uid == model.uid
    assert same_floats(back.validationMetrics, model.validationMetrics)
    assert (back.bestIndex, back.trialIds, back.trials) == (model.bestIndex, model.trialIds, model.trials)
    assert keyed(back.bestParams) == keyed(model.bestParams) == keyed(grid[model.bestIndex])
    assert back.getTrainRatio() == 0.6 and [keyed(m) for m in back.getEstimatorParamMaps()] == [keyed(m) for m in grid]
    assert [coefficients(m) for m in back.subModels] == [coefficients(m) for m in model.subModels]
    assert predictions(back.transform(breast_cancer)) == predictions(model.transform(breast_cancer))
    java_model = spark._jvm.io.sparktune.ml.tuning.TrainValidationSplitModel.load(model_path)
    assert list(java_model.validationMetrics()) == model.validationMetrics and java_model.hasSubModels()


def test_random_train_validation_split_model_keeps_space_and_nan(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    tvs = TrainValidationSplit(estimator=pipe, evaluator=evaluator(), seed=3, maxTrials=3, sampler="qmc",
                               searchSpace={lr.regParam: hp.loguniform("reg", math.log(1e-4), 0.0),
                                            lr.elasticNetParam: hp.uniform("en", 0.0, 1.0)})
    model = tvs.fit(breast_cancer)
    changed = model.copy()
    changed.validationMetrics = [float("nan")] + model.validationMetrics[1:]
    path = str(tmp_path / "tvs-model")
    changed.save(path)
    assert metadata(path)["validationMetrics"][0] == "NaN" and metadata(path)["persistSubModels"] is False
    back = TrainValidationSplitModel.load(path)
    assert same_floats(back.validationMetrics, changed.validationMetrics) and back.subModels is None
    assert back.getSampler() == "qmc" and keyed(back.bestParams) == keyed(model.bestParams)
    assert {(p.parent, p.name): repr(e) for p, e in back.getSearchSpace().items()} == \
        {(p.parent, p.name): repr(e) for p, e in tvs.getSearchSpace().items()}


def test_pyspark_pipeline_with_a_train_validation_split_stage(spark, breast_cancer, tmp_path):
    features = [c for c in breast_cancer.columns if c != "label"]
    lr = LogisticRegression(maxIter=10)
    tvs = TrainValidationSplit(estimator=lr, evaluator=evaluator(), seed=2,
                               estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, [0.01, 0.3]).build())
    pipe = Pipeline(stages=[VectorAssembler(inputCols=features, outputCol="raw"),
                            StandardScaler(inputCol="raw", outputCol="features"), tvs])
    path = str(tmp_path / "pipeline")
    pipe.save(path)
    stage = Pipeline.load(path).getStages()[-1]
    assert type(stage) is TrainValidationSplit and stage.uid == tvs.uid and stage.getSeed() == 2

    fitted = pipe.fit(breast_cancer)
    model_path = str(tmp_path / "pipeline-model")
    fitted.save(model_path)
    back = PipelineModel.load(model_path)
    assert type(back.stages[-1]) is TrainValidationSplitModel
    assert back.stages[-1].validationMetrics == fitted.stages[-1].validationMetrics
    assert predictions(back.transform(breast_cancer)) == predictions(fitted.transform(breast_cancer))


def test_a_stage_choice_space_cannot_be_saved_and_says_so(spark, breast_cancer, pipeline, tmp_path):
    from pyspark.ml.classification import RandomForestClassifier

    pipe, lr = pipeline
    rf = RandomForestClassifier(numTrees=5)
    space = {lr: hp.choice("classifier", [lr, (rf, {rf.maxDepth: hp.randint("rf.maxDepth", 2, 4)})])}
    for tuner in (CrossValidator(estimator=pipe, evaluator=evaluator(), searchSpace=space, numFolds=2),
                  TrainValidationSplit(estimator=pipe, evaluator=evaluator(), searchSpace=space)):
        path = str(tmp_path / type(tuner).__name__)
        with pytest.raises(Exception, match="stage choice 'classifier'") as err:
            tuner.save(path)
        assert path in str(err.value) and not os.path.exists(path)
