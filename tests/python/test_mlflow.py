"""Trials logged to a real MLflow tracking server: a fit inside `with mlflow.start_run():` nests its
trials under that run and leaves it running; checked with MLflow's own Python client."""

import math

import pytest

mlflow = pytest.importorskip("mlflow")

from mlflow.tracking import MlflowClient  # noqa: E402
from pyspark.ml.evaluation import BinaryClassificationEvaluator  # noqa: E402

from sparktune.ml.tuning import CrossValidator, TrainValidationSplit  # noqa: E402
from sparktune.space import hp  # noqa: E402


@pytest.fixture(scope="module")
def tracking_uri(mlflow_server):
    """conftest's tracking server as mlflow's tracking URI for this module."""
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(mlflow_server)
    yield mlflow_server
    mlflow.set_tracking_uri(previous)


def test_fit_in_an_active_run_nests_its_trials_and_leaves_the_run_running(tracking_uri, breast_cancer,
                                                                            pipeline):
    pipe, lr = pipeline
    experiment = mlflow.set_experiment("python-nested")
    cv = CrossValidator(estimator=pipe, evaluator=BinaryClassificationEvaluator(), numFolds=2, seed=5,
                        parallelism=2, maxTrials=3,
                        searchSpace={lr.regParam: hp.loguniform("regParam", math.log(1e-4), 0.0),
                                     lr.elasticNetParam: hp.choice("elasticNet", [0.25, 0.75])})
    client = MlflowClient()
    with mlflow.start_run() as run:
        model = cv.fit(breast_cancer)
        assert mlflow.active_run().info.run_id == run.info.run_id
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
    assert client.get_run(run.info.run_id).info.status == "FINISHED"  # ended by the caller's `with`

    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert len(children) == 3
    assert len(client.search_runs([experiment.experiment_id])) == 4  # no second parent
    by_trial = {int(c.data.tags["sparktune.trial_id"]): c for c in children}
    for trial in model.trials:
        child = by_trial[trial["id"]]
        assert child.data.tags["sparktune.state"] == trial["state"] == "ok"
        assert child.data.params["LogisticRegression.elasticNetParam"] in ("0.25", "0.75")
        assert float(child.data.params["LogisticRegression.regParam"]) == trial["values"]["regParam"]
        assert child.data.metrics["avg_areaUnderROC"] == pytest.approx(trial["value"], abs=1e-12)
        history = client.get_metric_history(child.info.run_id, "fold_areaUnderROC")
        assert sorted(m.step for m in history) == [0, 1]

    parent = client.get_run(run.info.run_id)
    assert parent.data.params["numFolds"] == "2"
    assert parent.data.metrics["best_avg_areaUnderROC"] == pytest.approx(model.bestMetric, abs=1e-12)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert artifacts == {"search_results.csv", "best_parameters.json", "search_space.json"}


def test_train_validation_split_nests_its_trials_with_the_validation_metric(tracking_uri, breast_cancer,
                                                                           pipeline):
    pipe, lr = pipeline
    experiment = mlflow.set_experiment("python-tvs")
    tvs = TrainValidationSplit(estimator=pipe, evaluator=BinaryClassificationEvaluator(), trainRatio=0.7,
                               seed=5, maxTrials=2,
                               searchSpace={lr.regParam: hp.loguniform("regParam", math.log(1e-4), 0.0)})
    client = MlflowClient()
    with mlflow.start_run() as run:
        model = tvs.fit(breast_cancer)
        assert client.get_run(run.info.run_id).info.status == "RUNNING"

    children = client.search_runs([experiment.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{run.info.run_id}'")
    assert len(children) == 2
    by_trial = {int(c.data.tags["sparktune.trial_id"]): c for c in children}
    for trial_id, metric in zip(model.trialIds, model.validationMetrics):
        child = by_trial[trial_id]
        assert set(child.data.metrics) == {"areaUnderROC"}  # no folds: the validation metric only
        assert child.data.metrics["areaUnderROC"] == pytest.approx(metric, abs=1e-12)
    parent = client.get_run(run.info.run_id)
    assert parent.data.params["trainRatio"] == "0.7"
    assert parent.data.tags["estimator_name"] == "TrainValidationSplit"
    assert parent.data.metrics["best_areaUnderROC"] == pytest.approx(model.bestMetric, abs=1e-12)


def test_logging_off_logs_nothing(tracking_uri, breast_cancer, pipeline):
    pipe, lr = pipeline
    experiment = mlflow.set_experiment("python-off")
    cv = CrossValidator(estimator=pipe, evaluator=BinaryClassificationEvaluator(), numFolds=2, maxTrials=1,
                        searchSpace={lr.regParam: hp.uniform("regParam", 0.0, 0.1)}, mlflowLogging=False)
    with mlflow.start_run() as run:
        cv.fit(breast_cancer)
    runs = MlflowClient().search_runs([experiment.experiment_id])
    assert [r.info.run_id for r in runs] == [run.info.run_id]
    assert not MlflowClient().get_run(run.info.run_id).data.params


def test_without_an_active_run_a_new_parent_run_is_made_in_the_named_experiment_and_ended(tracking_uri,
                                                                                        breast_cancer, pipeline):
    pipe, lr = pipeline
    assert mlflow.active_run() is None
    tvs = TrainValidationSplit(estimator=pipe, evaluator=BinaryClassificationEvaluator(), seed=3, maxTrials=2,
                               searchSpace={lr.regParam: hp.uniform("regParam", 0.0, 0.1)},
                               mlflowTrackingUri=tracking_uri, mlflowExperimentName="python-kwargs")
    tvs.fit(breast_cancer)
    client = MlflowClient()
    experiment = client.get_experiment_by_name("python-kwargs")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(children) == 2
