package io.sparktune.ml.tracking

import java.net.ServerSocket
import java.nio.file.{Files, Paths}
import java.time.Duration

import scala.collection.mutable
import scala.jdk.CollectionConverters._

import org.apache.spark.ml.classification.{LogisticRegression, RandomForestClassifier}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.tuning.ParamGridBuilder

import io.sparktune.ml.tuning.{CrossValidator, ParamSpace, SparkSuiteBase, TrainValidationSplit}
import io.sparktune.space.Hp

/**
 * Trials logged as nested MLflow runs, checked through a real tracking server's REST API
 * (runs/search, metrics/get-history, artifacts/list) after CrossValidator and TrainValidationSplit
 * fit on real Spark.
 */
class MlflowTrackingSuite extends SparkSuiteBase {
  import MlflowServer.entries

  private def server = MlflowServer.shared

  private def lr = new LogisticRegression().setMaxIter(5)

  private def cv(estimatorLr: LogisticRegression) = new CrossValidator().setEstimator(pipeline(estimatorLr))
    .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(7L).setParallelism(2)

  private def runId(run: com.fasterxml.jackson.databind.JsonNode) = run.path("info").path("run_id").asText

  private def status(run: com.fasterxml.jackson.databind.JsonNode) = run.path("info").path("status").asText

  private def experimentId(name: String) =
    server.get("experiments/get-by-name", "experiment_name" -> name).path("experiment").path("experiment_id").asText

  test("a grid search: a new parent run with the tuner's params and results, one child run per param map") {
    val est = lr
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.001, 0.1)).addGrid(est.elasticNetParam,
      Array(0.0, 0.5)).build()
    val model = cv(est).setEstimatorParamMaps(grid).setMlflowTrackingUri(server.uri).setMlflowExperimentName("grid")
      .fit(cancer)

    val (children, parents) = server.runs(experimentId("grid")).partition(r => entries(r, "tags")
      .contains("mlflow.parentRunId"))
    assert(parents.size == 1, parents)
    val parent = parents.head
    assert(status(parent) == "FINISHED", "the run sparktune started ends with the fit")
    assert(children.size == grid.length)
    children.foreach { child =>
      val tags = entries(child, "tags")
      assert(tags("mlflow.parentRunId") == runId(parent))
      assert(tags("sparktune.state") == "ok" && status(child) == "FINISHED", tags)
      val i = model.trialIds.indexOf(tags("sparktune.trial_id").toLong)
      assert(i >= 0, tags)
      val params = entries(child, "params")
      assert(params("LogisticRegression.regParam") == ParamText.show(grid(i)(est.regParam)), params)
      assert(params("LogisticRegression.elasticNetParam") == ParamText.show(grid(i)(est.elasticNetParam)))
      assert(params("stages") == "['VectorAssembler', 'StandardScaler', 'LogisticRegression']")
      assert(params("LogisticRegression.maxIter") == "5" && params("StandardScaler.withStd") == "True", params)
      val metrics = entries(child, "metrics")
      assert(math.abs(metrics("avg_areaUnderROC").toDouble - model.avgMetrics(i)) < 1e-12, metrics)
      assert(math.abs(metrics("std_areaUnderROC").toDouble - model.stdMetrics(i)) < 1e-12, metrics)
      val folds = server.metricHistory(runId(child), "fold_areaUnderROC")
      assert(folds.map(_._1) == Seq(0L, 1L), folds)
      assert(folds.map(_._2).zip(model.foldMetrics(i)).forall { case (a, b) => math.abs(a - b) < 1e-12 }, folds)
    }

    val params = entries(parent, "params")
    assert(params("numFolds") == "2" && params("parallelism") == "2" && params("seed") == "7", params)
    assert(params("estimator") == "Pipeline" && params("evaluator") == "BinaryClassificationEvaluator", params)
    assert(params("BinaryClassificationEvaluator.metricName") == "areaUnderROC", params)
    assert(params("best_LogisticRegression.regParam") == ParamText.show(model.bestParams(est.regParam)), params)
    assert(!params.contains("estimatorParamMaps") && !params.keys.exists(_.startsWith("mlflow")), params)
    val metrics = entries(parent, "metrics")
    assert(math.abs(metrics("best_avg_areaUnderROC").toDouble - model.bestMetric) < 1e-12, metrics)
    assert(entries(parent, "tags")("estimator_class") == classOf[CrossValidator].getName)

    assert(server.artifacts(runId(parent)).toSet == Set("search_results.csv", "best_parameters.json",
      "search_space.json"))
    val artifactRoot = Paths.get(parent.path("info").path("artifact_uri").asText)
    val csv = Files.readAllLines(artifactRoot.resolve("search_results.csv")).asScala
    assert(csv.size == 1 + grid.length, csv)
    assert(csv.head.startsWith("trial_id,state,params,param.LogisticRegression.elasticNetParam,"), csv.head)
    assert(Files.readString(artifactRoot.resolve("search_space.json")).contains("\"LogisticRegression.regParam\":\"0.1\""))
  }

  test("a random search in the caller's run: nested under it, values not choice indices, the run left running") {
    val exp = server.createExperiment("nested", Some("mlflow-artifacts:/nested"))
    val caller = runId(server.post("runs/create", s"""{"experiment_id": "$exp", "start_time": 1}""").get("run"))
    val est = lr
    val space = ParamSpace()
      .add(est.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0))
      .add(est.elasticNetParam, Hp.choice("elasticNet", 0.25, 0.75))
    val model = cv(est).setSearchSpace(space).setMaxTrials(3).setMlflowTrackingUri(server.uri).setMlflowRunId(caller)
      .fit(cancer)

    val runs = server.runs(exp)
    val children = runs.filter(r => entries(r, "tags").get("mlflow.parentRunId").contains(caller))
    assert(runs.size == 1 + 3 && children.size == 3, runs)
    children.foreach { child =>
      val params = entries(child, "params")
      assert(Set("0.25", "0.75").contains(params("LogisticRegression.elasticNetParam")), params)
      val reg = params("LogisticRegression.regParam").toDouble
      assert(reg >= 1e-4 && reg <= 1.0, params)
    }
    val parent = server.run(caller)
    assert(status(parent) == "RUNNING", "sparktune ended the caller's run")
    assert(entries(parent, "params")("best_LogisticRegression.regParam") ==
      ParamText.show(model.bestParams(est.regParam)))
    assert(server.artifacts(caller).toSet == Set("search_results.csv", "best_parameters.json", "search_space.json"))
    val proxied = server.dir.resolve(s"proxied/nested/$caller/artifacts/search_results.csv")
    assert(Files.readAllLines(proxied).size == 1 + 3)
  }

  test("TrainValidationSplit: one child run per param map with the validation metric, as autologging names it") {
    val est = lr
    val grid = new ParamGridBuilder().addGrid(est.regParam, Array(0.001, 0.1)).build()
    val model = new TrainValidationSplit().setEstimator(pipeline(est)).setEvaluator(new BinaryClassificationEvaluator())
      .setEstimatorParamMaps(grid).setTrainRatio(0.7).setSeed(3L).setMlflowTrackingUri(server.uri)
      .setMlflowExperimentName("tvs").fit(cancer)

    val (children, parents) = server.runs(experimentId("tvs")).partition(r => entries(r, "tags")
      .contains("mlflow.parentRunId"))
    assert(parents.size == 1 && children.size == grid.length, (parents, children))
    val parent = parents.head
    assert(status(parent) == "FINISHED")
    children.foreach { child =>
      val tags = entries(child, "tags")
      assert(tags("mlflow.parentRunId") == runId(parent) && status(child) == "FINISHED", tags)
      val i = model.trialIds.indexOf(tags("sparktune.trial_id").toLong)
      assert(entries(child, "params")("LogisticRegression.regParam") == ParamText.show(grid(i)(est.regParam)))
      val metrics = entries(child, "metrics")
      assert(metrics.keySet == Set("areaUnderROC"), metrics)
      assert(math.abs(metrics("areaUnderROC").toDouble - model.validationMetrics(i)) < 1e-12, metrics)
    }
    val params = entries(parent, "params")
    assert(params("trainRatio") == "0.7" && params("seed") == "3" && !params.contains("numFolds"), params)
    val best = model.validationMetrics.max
    assert(math.abs(entries(parent, "metrics")("best_areaUnderROC").toDouble - best) < 1e-12)
    assert(entries(parent, "tags")("estimator_class") == classOf[TrainValidationSplit].getName)
    assert(server.artifacts(runId(parent)).toSet == Set("search_results.csv", "best_parameters.json",
      "search_space.json"))
  }

  test("a pruned trial: a KILLED child run tagged pruned, with the metric of the fold it ran and no average") {
    val est = new LogisticRegression().setMaxIter(10)
    val model = new CrossValidator().setEstimator(pipeline(est)).setEstimatorParamMaps(prunableMaps(est))
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(3).setSeed(2L).setPruning("median")
      .setMlflowTrackingUri(server.uri).setMlflowExperimentName("pruned").fit(cancer)
    val children = server.runs(experimentId("pruned")).filter(r => entries(r, "tags").contains("mlflow.parentRunId"))
    assert(children.size == 4, children)
    val byTrial = children.map(c => entries(c, "tags")("sparktune.trial_id").toLong -> c).toMap
    val pruned = byTrial(model.trialIds(3))
    val tags = entries(pruned, "tags")
    assert(tags("sparktune.state") == "pruned" && tags("sparktune.error").contains("median"), tags)
    assert(status(pruned) == "KILLED")
    assert(!entries(pruned, "metrics").contains("avg_areaUnderROC"))
    val folds = server.metricHistory(runId(pruned), "fold_areaUnderROC")
    assert(folds.map(_._1) == Seq(0L) && math.abs(folds.head._2 - model.foldMetrics(3)(0)) < 1e-12, folds)
    (0 until 3).foreach(i => assert(status(byTrial(model.trialIds(i))) == "FINISHED"))
  }

  test("model selection: a chosen stage's params are named by its class, in the child runs and the best_ params") {
    val est = lr
    val rf = new RandomForestClassifier().setNumTrees(5)
    val space = ParamSpace().addStageChoice(est, "classifier",
      rf -> ParamSpace().add(rf.maxDepth, Hp.randint("rf.maxDepth", 2, 4)))
    cv(est).setSearchSpace(space).setMaxTrials(2).setMlflowTrackingUri(server.uri)
      .setMlflowExperimentName("selection").fit(cancer)
    val (children, parents) = server.runs(experimentId("selection")).partition(r => entries(r, "tags")
      .contains("mlflow.parentRunId"))
    assert(children.size == 2, children)
    val stages = "['VectorAssembler', 'StandardScaler', 'RandomForestClassifier']"
    children.foreach { child =>
      val params = entries(child, "params")
      assert(params("stages") == stages && Set("2", "3").contains(params("RandomForestClassifier.maxDepth")), params)
    }
    val best = entries(parents.head, "params")
    assert(best("best_Pipeline.stages") == stages, best)
    assert(Set("2", "3").contains(best("best_RandomForestClassifier.maxDepth")), best)
  }

  test("logging off, or no tracking URI: nothing is logged and nothing fails") {
    val est = lr
    cv(est).setSearchSpace(ParamSpace().add(est.regParam, Hp.uniform("regParam", 0.0, 0.1))).setMaxTrials(1)
      .setMlflowLogging(false).setMlflowTrackingUri(server.uri).setMlflowExperimentName("off").fit(cancer)
    assert(!server.experimentExists("off"))
    val info = TunerInfo(classOf[CrossValidator], "cv", Nil)
    assert(MlflowTracker.start(MlflowSettings.resolve(true, "", "", "", Map.empty), info, _ => ()) eq TuningTracker.Off)
    val local = mutable.ArrayBuffer.empty[String]
    val settings = MlflowSettings.resolve(true, "sqlite:///mlflow.db", "", "", Map.empty)
    assert(MlflowTracker.start(settings, info, local += _) eq TuningTracker.Off)
    assert(local.size == 1 && local.head.contains("sqlite:///mlflow.db"), local)
  }

  test("a server that is down: the fit finishes, every trial is in the store, one warning names what was not logged") {
    val store = tempDir("sparktune-mlflow-down").resolve("study.journal")
    val down = s"http://127.0.0.1:${MlflowServer.freePort()}"
    val est = lr
    val (model, warned) = CapturedLogs {
      cv(est).setSearchSpace(ParamSpace().add(est.regParam, Hp.uniform("regParam", 0.0, 0.1))).setMaxTrials(3)
        .setTrialStore(store.toString).setMlflowTrackingUri(down).fit(cancer)
    }
    assert(model.trials.map(_.state) == Seq("ok", "ok", "ok"))
    assert(Files.size(store) > 0)
    val mlflow = warned.filter(_.contains("MLflow"))
    assert(mlflow.size == 1, warned)
    assert(mlflow.head.contains("the runs of 3 trials") && mlflow.head.contains(down), mlflow)
  }

  test("a server that does not answer costs bounded waits and one warning") {
    val silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress) // accepts, never answers
    try {
      val warned = mutable.ArrayBuffer.empty[String]
      val settings = MlflowSettings.resolve(true, s"http://127.0.0.1:${silent.getLocalPort}", "", "", Map.empty)
      val start = System.nanoTime()
      val tracker = MlflowTracker.start(settings, TunerInfo(classOf[CrossValidator], "cv", Nil), warned += _,
        timeout = Duration.ofSeconds(1), drainTimeout = Duration.ofSeconds(20))
      (0 until 5).foreach(i => tracker.trialFinished(TrialRecord(i, Nil, Nil, Nil, "ok", None, 0L, 1L)))
      tracker.succeeded(TuningSummary(Nil, Nil, Nil, Nil))
      val seconds = (System.nanoTime() - start) / 1e9
      assert(seconds < 10, s"$seconds s")
      assert(warned.size == 1 && warned.head.contains("the parent run") && warned.head.contains("5 trials"), warned)
    } finally silent.close()
  }

  test("MLflow's limits: 250 params, a 7,000-character value and 1,500 fold metrics reach one child run") {
    val exp = server.createExperiment("limits")
    val settings = MlflowSettings.resolve(true, server.uri, "", "", Map("MLFLOW_EXPERIMENT_ID" -> exp))
    val warned = mutable.ArrayBuffer.empty[String]
    val tracker = MlflowTracker.start(settings, TunerInfo(classOf[CrossValidator], "cv", Nil), warned += _)
    val params = (0 until 250).map(i => s"Stage.p$i" -> i.toString) :+ ("Stage.long" -> "x" * 7000)
    val metrics = (0 until 1500).map(i => MetricPoint("fold_m", i.toDouble, i.toLong))
    tracker.trialFinished(TrialRecord(0, params, Nil, metrics, "ok", None, 1L, 2L))
    tracker.succeeded(TuningSummary(Nil, Nil, Nil, Nil))
    assert(warned.isEmpty, warned)
    val child = server.runs(exp).find(r => entries(r, "tags").contains("mlflow.parentRunId")).get
    val logged = entries(server.run(runId(child)), "params")
    assert(logged.size == 251 && logged("Stage.p249") == "249")
    assert(logged("Stage.long").length == MlflowLimits.MaxParamValueLength && logged("Stage.long").endsWith("..."))
    assert(server.metricHistory(runId(child), "fold_m").map(_._1) == (0 until 1500).map(_.toLong))
  }
}
