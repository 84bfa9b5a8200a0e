package io.sparktune.hyperopt

import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets

import io.sparktune.Trial
import io.sparktune.ml.tuning.SparkSuiteBase
import io.sparktune.space.{Hp, SearchSpace}

/** SparkTrials on local[2]: each trial a Spark task; the Python tests run it on a multi-process cluster. */
class SparkTrialsSuite extends SparkSuiteBase {
  import SparkTrialsSuite.quadratic

  private val space = SearchSpace(Map("x" -> Hp.uniform("x", -5, 5)))

  test("each trial runs as a Spark task and the best is found") {
    val trials = new SparkTrials(spark, parallelism = 2)
    val result = trials.fmin(quadratic, space, maxEvals = 24, seed = 3L)
    assert(result.trials.size == 24)
    assert(result.numOk == 24)
    val best = result.best.get
    assert(best.value.get == result.trials.flatMap(_.value).min)
    assert(math.abs(result.bestValues.get("x").asInstanceOf[Double] - 1.0) < 0.5)
  }

  test("parallelism: <= 0 means the slots, at most the slots and 128") {
    assert(SparkTrials.decideParallelism(0, 8) == 8)
    assert(SparkTrials.decideParallelism(4, 8) == 4)
    assert(SparkTrials.decideParallelism(16, 8) == 8)
    assert(SparkTrials.decideParallelism(500, 1000) == 128)
    assert(new SparkTrials(spark, parallelism = 64).effectiveParallelism == 2)
  }

  test("an exception or a NaN fails its trial; the search goes on") {
    val result = FMin.fmin(
      p => {
        val x = p("x").asInstanceOf[Double]
        if (x < -2) throw new IllegalStateException(s"x=$x too small")
        else if (x < 0) Double.NaN
        else x
      },
      space, maxEvals = 16, algo = "random", parallelism = 2, seed = 5L)
    val failed = result.trials.filter(_.state == Trial.Fail)
    assert(result.trials.size == 16 && failed.nonEmpty && result.numOk > 0)
    val raised = failed.filter(_.error.exists(_.contains("IllegalStateException: x=")))
    assert(raised.nonEmpty && raised.forall(_.error.get.contains("at io.sparktune.hyperopt.SparkTrialsSuite")))
    assert(failed.exists(_.error.contains("the objective returned NaN, not a finite loss")))
    assert(result.best.get.value.get >= 0)
  }

  test("an objective that cannot be serialized is refused before any trial") {
    val sc = spark.sparkContext
    val e = intercept[IllegalArgumentException] {
      new SparkTrials(spark, 2).fmin(p => sc.parallelize(Seq(1.0)).sum(), space, maxEvals = 4)
    }
    assert(e.getMessage.contains("cannot be serialized"))
  }

  test("a timeout cancels the running trials and keeps the finished ones") {
    val start = System.nanoTime()
    val result = new SparkTrials(spark, 2, timeoutSeconds = Some(3.0)).fmin(
      p => {
        val x = p("x").asInstanceOf[Double]
        Thread.sleep(if (x < 0) 60000L else 100L)
        x
      },
      space, maxEvals = 200, algo = "random", seed = 7L)
    val wall = (System.nanoTime() - start) / 1e9
    assert(wall < 3.0 + 2.0, s"fmin returned after $wall s")
    assert(result.numCancelled > 0 && result.numOk > 0)
    assert(result.trials.filter(_.state == Trial.Cancelled).forall(_.error.exists(_.contains("timeout"))))
    assert(!result.trials.exists(_.isRunning))
    // The cancelled jobs are gone: new trials run at once.
    val again = new SparkTrials(spark, 2).fmin(quadratic, space, maxEvals = 2)
    assert(again.numOk == 2)
  }

  test("earlyStop and lossThreshold stop the search") {
    val early = new SparkTrials(spark, 2).fmin(quadratic, space, maxEvals = 100, earlyStop = _.size >= 5)
    assert(early.trials.count(_.isOk) >= 5 && early.trials.size < 100)
    val threshold = new SparkTrials(spark, 2).fmin(quadratic, space, maxEvals = 200, lossThreshold = Some(0.5))
    assert(threshold.best.get.value.get < 0.5 && threshold.trials.size < 200)
  }

  test("the progress line: the counts and the best loss as trials end, then the final line; off shows nothing") {
    val bytes = new ByteArrayOutputStream()
    val trials = new SparkTrials(spark, 2)
    trials.progressLine = total =>
      new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), total, inPlace = false, lineEvery = 0.0)
    val result = trials.fmin(
      p => { val x = p("x").asInstanceOf[Double]; if (x < -2) throw new IllegalStateException("small") else x * x },
      space, maxEvals = 10, algo = "random", seed = 5L)
    assert(result.numFailed > 0, "the seed gives a failure")
    val lines = bytes.toString(StandardCharsets.UTF_8).split("\n").toSeq
    assert(lines.size >= 3 && lines.forall(_.startsWith("sparktune fmin: ")), lines)
    val done = lines.map(_.stripPrefix("sparktune fmin: ").takeWhile(_ != '/').toInt)
    assert(done == done.sorted && done.head == 0, lines)
    assert(lines.exists(l => l.contains("running 2")), lines)
    val bestLoss = ProgressLine.text(0, 0, 0, 0, 0, result.best.flatMap(_.value)).split(", ").last
    assert(lines.last.matches(s"sparktune fmin: 10/10 trials, running 0, failed ${result.numFailed}, " +
      s"\\Q$bestLoss\\E, \\d+\\.\\d s"), lines.last)

    bytes.reset()
    trials.fmin(SparkTrialsSuite.quadratic, space, maxEvals = 2, showProgress = false)
    assert(bytes.size == 0)
  }
}

object SparkTrialsSuite {
  // Here rather than in the suite: a method of the suite would capture the (unserializable) suite.
  def quadratic(p: Map[String, Any]): Double = {
    val x = p("x").asInstanceOf[Double]
    (x - 1) * (x - 1)
  }
}
