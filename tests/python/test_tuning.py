"""sparktune.ml.tuning.CrossValidator on examples/data/breast_cancer.csv: the grid search gives
pyspark.ml.tuning.CrossValidator's avgMetrics; the random search runs maxTrials trials within the
space's bounds, journals them and resumes; the core's and the tuner's errors come back as Python ones."""

import json
import math
import os

import pytest
from pyspark.ml.evaluation import BinaryClassificationEvaluator
from pyspark.ml.tuning import CrossValidator as PySparkCrossValidator

import sparktune
from sparktune import SearchSpaceError, StudyStateError, TrialStoreError
from sparktune.ml.tuning import CrossValidator, CrossValidatorModel, ParamGridBuilder
from sparktune.space import hp

SEED = 11


def evaluator():
    return BinaryClassificationEvaluator(metricName="areaUnderROC")


def test_params_mirror_pyspark():
    ours, theirs = CrossValidator(), PySparkCrossValidator()
    shared = ["estimator", "estimatorParamMaps", "evaluator", "numFolds", "seed", "parallelism", "foldCol"]
    for name in shared:
        assert ours.hasParam(name), name
        assert ours.hasDefault(name) == theirs.hasDefault(name), name
        if theirs.hasDefault(name) and name != "seed":  # pyspark's seed default is a per-process hash
            assert ours.getOrDefault(name) == theirs.getOrDefault(name), name
    assert ours.getMaxTrials() == 10 and ours.getTrialStore() == ""
    with pytest.raises(TypeError, match="keyword"):
        CrossValidator(None)
    cv = CrossValidator().setNumFolds(4).setParallelism(2).setMaxTrials(5).setSeed(3)
    assert (cv.getNumFolds(), cv.getParallelism(), cv.getMaxTrials(), cv.getSeed()) == (4, 2, 5, 3)


def test_grid_avg_metrics_equal_pysparks(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    grid = (ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.1])
            .addGrid(lr.elasticNetParam, [0.0, 1.0]).build())
    common = dict(estimatorParamMaps=grid, evaluator=evaluator(), numFolds=3, seed=SEED)

    theirs = PySparkCrossValidator(estimator=pipe, parallelism=1, **common).fit(breast_cancer)
    ours = CrossValidator(estimator=pipe, parallelism=2, **common).fit(breast_cancer)

    assert isinstance(ours, CrossValidatorModel)
    assert len(ours.avgMetrics) == len(grid) == 4
    for mine, expected in zip(ours.avgMetrics, theirs.avgMetrics):
        assert mine == pytest.approx(expected, abs=1e-12)
    # The metrics differ between maps, so equal lists are not a coincidence of a flat landscape.
    assert len({round(m, 9) for m in ours.avgMetrics}) > 1
    for mine, expected in zip(ours.stdMetrics, theirs.stdMetrics):
        assert mine == pytest.approx(expected, abs=1e-12)
    best = max(range(len(grid)), key=lambda i: theirs.avgMetrics[i])
    assert ours.bestIndex == best
    assert ours.bestParams == grid[best]
    assert [len(f) for f in ours.foldMetrics] == [3] * 4
    # Grid trials record the params as values, one ok trial per map.
    assert [t["state"] for t in ours.trials] == ["ok"] * 4
    assert {(t["values"]["regParam"], t["values"]["elasticNetParam"]) for t in ours.trials} == {
        (0.001, 0.0), (0.001, 1.0), (0.1, 0.0), (0.1, 1.0)}


def random_cv(pipe, lr, **kwargs):
    space = {
        lr.regParam: hp.loguniform("regParam", math.log(1e-4), math.log(0.5)),
        lr.elasticNetParam: hp.choice("elasticNetParam", [0.0, 0.5, 1.0]),
        lr.maxIter: hp.uniformint("maxIter", 5, 30),
    }
    return CrossValidator(estimator=pipe, evaluator=evaluator(), searchSpace=space, numFolds=3,
                          parallelism=2, seed=SEED, **kwargs)


def test_random_search_within_bounds_transforms_and_journals(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    store = tmp_path / "study.journal"
    model = random_cv(pipe, lr, maxTrials=5, trialStore=str(store)).fit(breast_cancer)

    assert len(model.trials) == 5
    assert [t["id"] for t in model.trials] == [0, 1, 2, 3, 4]
    assert all(t["state"] == "ok" for t in model.trials), model.trials
    for t in model.trials:
        v = t["values"]
        assert 1e-4 <= v["regParam"] <= 0.5
        assert v["elasticNetParam"] in (0.0, 0.5, 1.0)
        assert isinstance(v["maxIter"], int) and 5 <= v["maxIter"] <= 30
        assert t["point"]["elasticNetParam"] in (0, 1, 2)  # the raw point holds the option index
        assert len(t["metrics"]) == 3  # one metric per fold
    assert len(set(t["values"]["regParam"] for t in model.trials)) == 5

    assert len(model.avgMetrics) == 5
    assert [t["value"] for t in model.trials] == pytest.approx(model.avgMetrics)
    assert model.bestIndex == max(range(5), key=lambda i: model.avgMetrics[i])
    best_values = model.trials[model.bestIndex]["values"]
    assert model.bestParams[lr.regParam] == pytest.approx(best_values["regParam"])
    assert model.bestParams[lr.elasticNetParam] == best_values["elasticNetParam"]
    assert model.bestParams[lr.maxIter] == best_values["maxIter"]

    # bestModel is the Python wrapper of the refitted pipeline, with the best params.
    best_lr = model.bestModel.stages[-1]
    assert best_lr.getOrDefault("regParam") == pytest.approx(best_values["regParam"])
    scored = model.transform(breast_cancer)
    assert {"prediction", "probability"} <= set(scored.columns)
    assert evaluator().evaluate(scored) > 0.95

    # The journal: the study first, then one record per ask and per tell.
    lines = store.read_text().splitlines()
    assert len(lines) >= 1 + 2 * 5
    assert all(json.loads(line) for line in lines)


def test_random_search_resumes_from_its_store(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    store = str(tmp_path / "resume.journal")
    first = random_cv(pipe, lr, maxTrials=2, trialStore=store).fit(breast_cancer)
    second = random_cv(pipe, lr, maxTrials=4, trialStore=store).fit(breast_cancer)
    assert len(first.trials) == 2
    assert [t["id"] for t in second.trials] == [0, 1, 2, 3]
    # The first two are the stored ones, not fitted again.
    for old, new in zip(first.trials, second.trials[:2]):
        assert new["values"] == old["values"] and new["value"] == old["value"]
        assert new["finished_ms"] == old["finished_ms"]


def test_same_seed_same_trials(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    a = random_cv(pipe, lr, maxTrials=2).fit(breast_cancer)
    b = random_cv(pipe, lr, maxTrials=2).fit(breast_cancer)
    assert [t["values"] for t in a.trials] == [t["values"] for t in b.trials]


def test_trials_breaking_a_param_validator_fail_and_the_search_goes_on(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    # regParam must be >= 0: the draws below 0 fail their trial, the others run. (Seed 42 draws both.)
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=6, seed=42, parallelism=2,
                        searchSpace={lr.regParam: hp.uniform("reg", -0.5, 0.5)})
    model = cv.fit(breast_cancer)
    assert len(model.trials) == len(model.avgMetrics) == 6
    states = [t["state"] for t in model.trials]
    assert "ok" in states and "fail" in states, states
    for t, avg in zip(model.trials, model.avgMetrics):
        if t["values"]["reg"] < 0:
            assert t["state"] == "fail" and "regParam" in t["error"] and math.isnan(avg)
        else:
            assert t["state"] == "ok" and avg == pytest.approx(t["value"])
    assert model.trials[model.bestIndex]["state"] == "ok"


# --- errors -------------------------------------------------------------------------------------

def test_space_error_in_search_space_names_the_label(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2,
                        searchSpace={lr.regParam: hp.uniform("reg", 1.0, 0.1)})
    with pytest.raises(SearchSpaceError, match=r"label 'reg'.*must be < high"):
        cv.fit(breast_cancer)


def test_param_of_no_stage_is_named(spark, breast_cancer, pipeline):
    from pyspark.ml.classification import LogisticRegression

    pipe, _ = pipeline
    stranger = LogisticRegression()
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2,
                        searchSpace={stranger.regParam: hp.uniform("strangerReg", 0.0, 0.1)})
    with pytest.raises(SearchSpaceError, match=r"strangerReg.*belongs to no stage"):
        cv.fit(breast_cancer)


def test_grid_and_space_together_is_refused(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(),
                        estimatorParamMaps=ParamGridBuilder().addGrid(lr.regParam, [0.1]).build(),
                        searchSpace={lr.regParam: hp.uniform("reg", 0.0, 0.1)})
    with pytest.raises(SearchSpaceError, match="not both"):
        cv.fit(breast_cancer)


def test_every_trial_failing_is_a_state_error_with_the_reason(spark, breast_cancer, pipeline):
    pipe, lr = pipeline
    # regParam must be >= 0: every draw breaks the param's validator, so every trial fails.
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2,
                        searchSpace={lr.regParam: hp.uniform("reg", -2.0, -1.0)})
    with pytest.raises(StudyStateError, match=r"no trial succeeded.*regParam") as err:
        cv.fit(breast_cancer)
    assert isinstance(err.value, RuntimeError)


def test_corrupt_store_is_a_store_error_naming_the_file(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    store = tmp_path / "corrupt.journal"
    store.write_text("this is not a journal\n{\"neither\": 1}\n")
    with pytest.raises(TrialStoreError, match="corrupt.journal"):
        random_cv(pipe, lr, maxTrials=2, trialStore=str(store)).fit(breast_cancer)


def test_store_of_another_space_is_refused_naming_the_file(spark, breast_cancer, pipeline, tmp_path):
    pipe, lr = pipeline
    store = str(tmp_path / "other.journal")
    random_cv(pipe, lr, maxTrials=1, trialStore=store).fit(breast_cancer)
    other = CrossValidator(estimator=pipe, evaluator=evaluator(), maxTrials=2, seed=SEED, trialStore=store,
                           searchSpace={lr.regParam: hp.uniform("regParam", 0.0, 0.1)})
    with pytest.raises(SearchSpaceError, match="other.journal"):
        other.fit(breast_cancer)


def test_estimator_errors_stay_pysparks(spark, breast_cancer, pipeline):
    """An error of the estimator itself (a missing input column) is not dressed as sparktune's."""
    pipe, lr = pipeline
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.1]).build()
    cv = CrossValidator(estimator=pipe, evaluator=evaluator(), estimatorParamMaps=grid)
    with pytest.raises(Exception) as err:
        cv.fit(breast_cancer.drop("mean_radius"))
    assert not isinstance(err.value, (SearchSpaceError, StudyStateError, TrialStoreError))
    assert "mean_radius" in str(err.value)


def test_native_panic_is_a_native_error(spark):
    from sparktune.errors import translated

    with pytest.raises(sparktune.NativeError, match="on purpose"):
        with translated():
            spark._jvm.io.sparktune.jni.Native().testPanic("on purpose")
