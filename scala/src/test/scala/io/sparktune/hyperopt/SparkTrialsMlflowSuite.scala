package io.sparktune.hyperopt

import com.fasterxml.jackson.databind.JsonNode

import io.sparktune.Trial
import io.sparktune.ml.tracking.{CapturedLogs, MlflowServer, ParamText}
import io.sparktune.ml.tuning.SparkSuiteBase
import io.sparktune.space.{Hp, SearchSpace}

/**
 * SparkTrials' trials as nested MLflow runs, checked through a real tracking server's REST API
 * after fmin ran them as Spark tasks on local[2].
 */
class SparkTrialsMlflowSuite extends SparkSuiteBase {
  import MlflowServer.entries
  import SparkTrialsMlflowSuite._

  private def server = MlflowServer.shared

  private val space =
    SearchSpace(Map("x" -> Hp.uniform("x", -5, 5), "kind" -> Hp.choice("kind", "abs", "square", "boom")))

  private def runId(run: JsonNode) = run.path("info").path("run_id").asText

  private def status(run: JsonNode) = run.path("info").path("status").asText

  private def experimentId(name: String) =
    server.get("experiments/get-by-name", "experiment_name" -> name).path("experiment").path("experiment_id").asText

  /** The children of `parent` among `runs`, by trial id. */
  private def childrenOf(runs: Seq[JsonNode], parent: String): Map[Long, JsonNode] =
    runs.filter(r => entries(r, "tags").get("mlflow.parentRunId").contains(parent))
      .map(r => entries(r, "tags")("sparktune.trial_id").toLong -> r).toMap

  test("a new parent run, one child run per trial: values as params, the loss, FAILED with the error") {
    val result = new SparkTrials(spark, 2, mlflowTrackingUri = Some(server.uri), mlflowExperimentName = Some("fmin"))
      .fmin(objective, space, maxEvals = 12, algo = "random", seed = 11L, showProgress = false)
    assert(result.numFailed > 0 && result.numOk > 0, "the seed gives both outcomes")

    val runs = server.runs(experimentId("fmin"))
    val parents = runs.filterNot(r => entries(r, "tags").contains("mlflow.parentRunId"))
    assert(parents.size == 1, parents)
    val parent = parents.head
    assert(status(parent) == "FINISHED", "the run sparktune started ends with fmin")
    val children = childrenOf(runs, runId(parent))
    assert(runs.size == 1 + 12 && children.keySet == result.trials.map(_.id).toSet, runs)
    result.trials.foreach { t =>
      val child = children(t.id)
      val (params, tags, metrics) = (entries(child, "params"), entries(child, "tags"), entries(child, "metrics"))
      val values = SparkTrials.valuesOf(t)
      assert(params("kind") == values("kind") && Set("abs", "square", "boom").contains(params("kind")), params)
      assert(params("x") == ParamText.show(values("x")), params)
      assert(tags("sparktune.state") == t.state, tags)
      if (t.isOk) {
        assert(status(child) == "FINISHED")
        assert(metrics("loss").toDouble == t.value.get, metrics)
      } else {
        assert(t.state == Trial.Fail && values("kind") == "boom")
        assert(status(child) == "FAILED" && !metrics.contains("loss"), metrics)
        assert(tags("sparktune.error").contains("IllegalStateException: boom"), tags)
      }
    }

    val best = result.best.get
    val params = entries(parent, "params")
    assert(params("best_kind") == result.bestValues.get("kind"), params)
    assert(params("best_x") == ParamText.show(result.bestValues.get("x")), params)
    assert(params("maxEvals") == "12" && params("algo") == "random" && params("seed") == "11", params)
    assert(entries(parent, "metrics")("best_loss").toDouble == best.value.get)
    val tags = entries(parent, "tags")
    assert(tags("sparktune.best_trial_id") == best.id.toString && tags("estimator_name") == "SparkTrials", tags)
    assert(server.artifacts(runId(parent)).toSet ==
      Set("search_results.csv", "best_parameters.json", "search_space.json"))
  }

  test("in the caller's run (mlflowRunId): nested under it, left running; a cancelled trial's run is KILLED") {
    val exp = server.createExperiment("caller")
    val caller = runId(server.post("runs/create", s"""{"experiment_id": "$exp", "start_time": 1}""").get("run"))
    val result = FMin.fmin(sleepy, SearchSpace(Map("x" -> Hp.uniform("x", -5, 5))), maxEvals = 40, algo = "random",
      parallelism = 2, timeoutSeconds = Some(3.0), seed = 7L, showProgress = false,
      mlflowTrackingUri = Some(server.uri), mlflowRunId = Some(caller))
    assert(result.numCancelled > 0 && result.numOk > 0)

    val runs = server.runs(exp)
    val children = childrenOf(runs, caller)
    assert(runs.size == 1 + result.trials.size && children.size == result.trials.size, runs)
    result.trials.filter(_.state == Trial.Cancelled).foreach { t =>
      val child = children(t.id)
      assert(status(child) == "KILLED" && entries(child, "tags")("sparktune.state") == "cancelled")
      assert(entries(child, "tags")("sparktune.error").contains("timeout"))
    }
    result.trials.filter(_.isOk).foreach(t => assert(status(children(t.id)) == "FINISHED"))
    val parent = server.run(caller)
    assert(status(parent) == "RUNNING", "sparktune ended the caller's run")
    assert(entries(parent, "metrics")("best_loss").toDouble == result.best.get.value.get)
  }

  test("logging off: nothing is logged") {
    val result = FMin.fmin(objective, space, maxEvals = 3, parallelism = 2, showProgress = false,
      mlflowTrackingUri = Some(server.uri), mlflowExperimentName = Some("fmin-off"), mlflowLogging = false)
    assert(result.trials.size == 3)
    assert(!server.experimentExists("fmin-off"))
  }

  test("a server that is down: fmin returns every trial and warns once about what was not logged") {
    val down = s"http://127.0.0.1:${MlflowServer.freePort()}"
    val trials = new SparkTrials(spark, 2, mlflowTrackingUri = Some(down))
    val (result, logged) = CapturedLogs {
      trials.fmin(objective, space, maxEvals = 4, algo = "random", seed = 3L, showProgress = false)
    }
    assert(result.trials.size == 4 && !result.trials.exists(_.isRunning))
    val warned = logged.filter(_.contains("MLflow"))
    assert(warned.size == 1, logged)
    assert(warned.head.contains(down) && warned.head.contains("the parent run") &&
      warned.head.contains("the runs of 4 trials"), warned)
  }
}

object SparkTrialsMlflowSuite {
  // Here rather than in the suite: a method of the suite would capture the (unserializable) suite.
  def objective(p: Map[String, Any]): Double = {
    val x = p("x").asInstanceOf[Double]
    p("kind") match {
      case "abs" => math.abs(x)
      case "square" => x * x
      case _ => throw new IllegalStateException(s"boom at x=$x")
    }
  }

  def sleepy(p: Map[String, Any]): Double = {
    val x = p("x").asInstanceOf[Double]
    Thread.sleep(if (x < 0) 60000L else 100L)
    x
  }
}
