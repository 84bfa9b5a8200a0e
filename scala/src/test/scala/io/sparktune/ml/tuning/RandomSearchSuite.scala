package io.sparktune.ml.tuning

import java.nio.file.Files

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.{BinaryClassificationEvaluator, Evaluator}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.util.Identifiable
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}
import org.apache.spark.sql.Dataset

import io.sparktune.JsonCodec
import io.sparktune.space.Hp

/** Random mode: a ParamSpace sampled by the core, the trial store and resuming from it. */
class RandomSearchSuite extends SparkSuiteBase {

  private def trialsOf(model: CrossValidatorModel) =
    JsonCodec.parse(model.trialsJson, "trials").elements.asScala.toSeq

  test("random search: maxTrials trials inside their bounds, a best model that transforms, a store that resumes") {
    val lr = new LogisticRegression().setMaxIter(10)
    val space = ParamSpace()
      .add(lr.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0))
      .add(lr.elasticNetParam, Hp.choice("elasticNet", 0.0, 0.5, 1.0))
    val store = tempDir("sparktune-cv").resolve("study.journal")
    def cv(maxTrials: Int) = new CrossValidator().setEstimator(pipeline(lr)).setSearchSpace(space)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(11L).setParallelism(2)
      .setMaxTrials(maxTrials).setTrialStore(store.toString)

    val model = cv(4).fit(cancer)
    assert(model.avgMetrics.length == 4)
    assert(model.avgMetrics.forall(m => m > 0.5 && m <= 1.0), model.avgMetrics.toSeq)
    val trials = trialsOf(model)
    assert(trials.map(_.get("state").asText) == Seq.fill(4)("ok"))
    trials.foreach { t =>
      val reg = t.get("values").get("regParam").asDouble
      val en = t.get("values").get("elasticNet").asDouble
      assert(reg >= 1e-4 && reg <= 1.0, s"regParam $reg outside [1e-4, 1]")
      assert(Set(0.0, 0.5, 1.0).contains(en), s"elasticNet $en is none of the options")
      val folds = (0 until 2).map(k => t.get("metrics").get(s"fold_$k").asDouble)
      assert(folds.sum / 2 == t.get("value").asDouble)
    }
    val best = trials(model.bestIndex)
    assert(model.bestParams(lr.regParam) == best.get("values").get("regParam").asDouble)
    assert(model.bestMetric == model.avgMetrics.max)
    val predicted = model.transform(cancer)
    assert(predicted.columns.contains("prediction") && predicted.count() == cancer.count())

    assert(Files.size(store) > 0, s"no trial store at $store")
    val recorder = new JobRecorder(spark.sparkContext)
    val resumed = cv(4).fit(cancer)
    val groups = recorder.stop()
    assert(trialsOf(resumed).map(_.get("id").asLong) == (0 until 4).map(_.toLong), "a resumed fit ran new trials")
    assert(resumed.avgMetrics.toSeq == model.avgMetrics.toSeq)
    assert(!groups.exists(_.contains("-trial-")), s"a resumed fit with nothing left ran trial jobs: $groups")

    val more = cv(6).fit(cancer)
    val moreTrials = trialsOf(more)
    assert(moreTrials.size == 6)
    assert(moreTrials.take(4).map(_.get("values")) == trials.map(_.get("values")), "resuming changed old trials")
  }

  test("an evaluator's NaN fails that trial with the reason, and the search goes on") {
    val lr = new LogisticRegression().setMaxIter(5)
    val model = new CrossValidator().setEstimator(pipeline(lr))
      .setSearchSpace(ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1)))
      .setEvaluator(new NaNFirst(new BinaryClassificationEvaluator())).setNumFolds(2).setSeed(3L)
      .setMaxTrials(3).fit(cancer)
    val trials = trialsOf(model)
    assert(trials.map(_.get("state").asText) == Seq("fail", "ok", "ok"))
    assert(trials.head.get("error").asText.contains("NaN"), trials.head)
    assert(model.avgMetrics(0).isNaN && !model.avgMetrics(1).isNaN && !model.avgMetrics(2).isNaN)
    assert(model.bestIndex != 0)
  }

  /** A listener that calls `action` when a job of `group` starts (on Spark's listener thread). */
  private def onJobOf(group: String)(action: => Unit): SparkListener = new SparkListener {
    override def onJobStart(event: SparkListenerJobStart): Unit =
      if (Option(event.properties).map(_.getProperty("spark.jobGroup.id")).contains(group)) action
  }

  private def smallSearch(lr: LogisticRegression, space: ParamSpace) = new CrossValidator()
    .setEstimator(pipeline(lr)).setSearchSpace(space).setEvaluator(new BinaryClassificationEvaluator())
    .setNumFolds(2).setSeed(5L).setParallelism(2).setMaxTrials(3)

  test("cancelling a trial's job group cancels that trial; another takes its place and the search goes on") {
    val lr = new LogisticRegression().setMaxIter(5)
    val cv = smallSearch(lr, ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1)))
    val sc = spark.sparkContext
    // And future jobs: the group's first job may be over before the listener hears of it.
    val canceller = onJobOf(cv.jobGroup(1))(sc.cancelJobGroupAndFutureJobs(cv.jobGroup(1)))
    sc.addSparkListener(canceller)
    val model = try cv.fit(cancer) finally sc.removeSparkListener(canceller)
    val trials = trialsOf(model)
    assert(trials.map(_.get("state").asText) == Seq("ok", "cancelled", "ok", "ok"))
    assert(trials(1).get("error").asText.contains(cv.jobGroup(1)), trials(1))
    assert(model.trialIds.toSeq == Seq(0L, 2L, 3L))
  }

  test("cancelling all jobs stops the search, and the trials under way are told cancelled") {
    val lr = new LogisticRegression().setMaxIter(5)
    val space = ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1))
    val store = tempDir("sparktune-cv").resolve("stopped.journal").toString
    val cv = smallSearch(lr, space).setTrialStore(store)
    val sc = spark.sparkContext
    val canceller = onJobOf(cv.jobGroup(1))(sc.cancelAllJobs()) // at each of trial 1's jobs
    sc.addSparkListener(canceller)
    val e = try intercept[Exception](cv.fit(cancer)) finally sc.removeSparkListener(canceller)
    assert(e.getMessage.contains("cancel"), e)
    val study = CoreStudy.open(space.toJson, "random", 5L, "maximize", Some(store))
    // Trial 0 may still have had a fold running (no barrier between trials): cancelled too, then.
    val states = try study.trials.map(_.state) finally study.close()
    assert(states.size == 2 && states(1) == "cancelled" && Set("ok", "cancelled").contains(states.head), states)
  }

  test("a label defaults to the param's name; labels must be unique") {
    val lr = new LogisticRegression()
    val space = ParamSpace()
      .add(lr.elasticNetParam, """{"hp": "choice", "options": [{"const": 0.0}, {"const": 1.0}]}""")
    assert(space.labels == Seq("elasticNetParam"))
    val e = intercept[IllegalArgumentException](space.add(lr.regParam, Hp.uniform("elasticNetParam", 0.0, 1.0)))
    assert(e.getMessage.contains("elasticNetParam") && e.getMessage.contains(s"${lr.uid}.regParam"))
    val twice = intercept[IllegalArgumentException](space.add(lr.elasticNetParam, Hp.uniform("other", 0.0, 1.0)))
    assert(twice.getMessage.contains(s"${lr.uid}.elasticNetParam"))
    // From Python: stage uids, param names and hp nodes, in one JSON.
    val fromPython = ParamSpace.fromJson(
      s"""[{"stage": "${lr.uid}", "param": "regParam", "space": {"hp": "uniform", "low": 0, "high": 1}}]""")
    assert(fromPython.labels == Seq("regParam"))
    assert(ParamSpace.fromJson(fromPython.bindingsJson).bindings == fromPython.bindings)
  }
}

/** A real evaluator that answers NaN the first time it is called, then as `inner`. */
final class NaNFirst(inner: Evaluator, override val uid: String) extends Evaluator {
  def this(inner: Evaluator) = this(inner, Identifiable.randomUID("nanFirst"))
  @volatile private var calls = 0
  override def evaluate(dataset: Dataset[_]): Double = {
    calls += 1
    if (calls == 1) Double.NaN else inner.evaluate(dataset)
  }
  override def isLargerBetter: Boolean = inner.isLargerBetter
  override def copy(extra: ParamMap): NaNFirst = new NaNFirst(inner.copy(extra), uid)
}
