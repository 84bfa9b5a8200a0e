package io.sparktune.ml.tuning

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.PipelineModel
import org.apache.spark.ml.classification.{LogisticRegression, LogisticRegressionModel}
import org.apache.spark.ml.evaluation.{BinaryClassificationEvaluator, MulticlassClassificationEvaluator}
import org.apache.spark.ml.param.ParamMap

import io.sparktune.JsonCodec
import io.sparktune.jni.Native
import io.sparktune.space.Hp

/** What steers a search beyond Spark's: the TPE sampler, the timeout, fold-level pruning. */
class SearchControlSuite extends SparkSuiteBase {

  private def trialsOf(json: String) = JsonCodec.parse(json, "trials").elements.asScala.toSeq

  test("the core's pruners answer over JNI, and a bad config names its setting") {
    val native = new Native()
    val report = """{"direction": "maximize", "step": 1, "value": 0.5, "others": [0.9, 0.8, 0.7]}"""
    assert(native.shouldPrune("""{"kind": "median"}""", report).contains("\"prune\":true"))
    assert(native.shouldPrune("""{"kind": "bandit", "slack_amount": 0.5}""", report).contains("\"prune\":false"))
    val e = intercept[IllegalArgumentException](native.shouldPrune("""{"kind": "truncation"}""", report))
    assert(e.getMessage.contains("truncation_percentage"), e.getMessage)
  }

  test("median pruning stops a configuration that cannot win after its first fold, recorded as pruned") {
    val lr = new LogisticRegression().setMaxIter(10)
    val cv = new CrossValidator().setEstimator(pipeline(lr)).setEstimatorParamMaps(prunableMaps(lr))
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(3).setSeed(2L).setPruning("median")
    val recorder = new JobRecorder(spark.sparkContext)
    val model = cv.fit(cancer)
    val groups = recorder.stop()
    val trials = trialsOf(model.trialsJson)
    assert(trials.map(_.get("state").asText) == Seq("ok", "ok", "ok", "pruned"))
    assert(trials(3).get("error").asText.contains("median"), trials(3))
    assert(model.avgMetrics(3).isNaN && model.avgMetrics.take(3).forall(!_.isNaN))
    assert(!model.foldMetrics(3)(0).isNaN && model.foldMetrics(3).drop(1).forall(_.isNaN))
    // The pruned configuration fitted one fold only: fewer jobs than a sound one.
    val jobsOf = (id: Long) => groups.count(_ == cv.jobGroup(id))
    assert(jobsOf(3) < jobsOf(0) / 2, s"jobs: ${(0 to 3).map(i => jobsOf(i.toLong))}")
    val e = intercept[IllegalArgumentException](cv.copy(ParamMap.empty)
      .setPruning("""{"kind": "bandit"}""").fit(cancer))
    assert(e.getMessage.contains("slack"), e.getMessage)
  }

  test("a timeout cancels the trials under way, keeps the finished ones and refits the best of them") {
    val lr = new LogisticRegression().setMaxIter(10)
    val cv = new CrossValidator().setEstimator(pipeline(lr))
      .setSearchSpace(ParamSpace().add(lr.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0)))
      .setSampler("tpe").setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(4L)
      .setParallelism(2)
    // The machine is shared: the budget is a multiple of what one trial takes here and now.
    def timed[T](body: => T): (T, Double) = {
      val t0 = System.nanoTime()
      val r = body
      (r, (System.nanoTime() - t0) / 1e9)
    }
    val (_, one) = timed(cv.copy(ParamMap.empty).setMaxTrials(1).fit(cancer))
    val budget = 3 * one
    val (model, wall) = timed(cv.setMaxTrials(1000).setTimeout(budget).fit(cancer))
    val states = trialsOf(model.trialsJson).map(_.get("state").asText)
    assert(states.count(_ == "ok") >= 1 && states.size < 1000, states)
    assert(states.forall(s => s == "ok" || s == "cancelled"), states)
    assert(wall < budget + one + 30.0, s"the search took $wall s for a timeout of $budget s")
    assert(model.bestMetric == model.avgMetrics.filter(!_.isNaN).max)
    assert(model.transform(cancer).count() == cancer.count())
  }

  test("a slot the search's tail leaves idle refits the best trial so far, and fit returns that model") {
    val lr = new LogisticRegression()
    // The sound, quick map first; then one that learns nothing; then a slow one that predicts 0 almost
    // always: the slot the slow one's last fold leaves idle refits trial 0, which stays the best.
    val maps = Array(ParamMap(lr.regParam -> 0.01, lr.maxIter -> 10), ParamMap(lr.regParam -> 0.01, lr.maxIter -> 0),
      ParamMap(lr.regParam -> 1e-4, lr.maxIter -> 100, lr.tol -> 1e-12, lr.threshold -> 0.99))
    val cv = new CrossValidator().setEstimator(pipeline(lr)).setEstimatorParamMaps(maps)
      .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy")).setNumFolds(2).setSeed(3L)
      .setParallelism(2)
    val recorder = new JobRecorder(spark.sparkContext)
    val model = cv.fit(cancer)
    val groups = recorder.stop()
    assert(model.bestIndex == 0, model.avgMetrics.toSeq)
    assert(groups.contains(s"${cv.jobGroup(0)}-refit"), groups.distinct)
    // Once the trials started, every job ran in one of the search's groups: no refit after it.
    val search = groups.dropWhile(!_.startsWith(s"sparktune-${cv.uid}-"))
    assert(search.nonEmpty && search.forall(_.startsWith(s"sparktune-${cv.uid}-")), groups.distinct)
    val coefficients = (m: org.apache.spark.ml.Model[_]) =>
      m.asInstanceOf[PipelineModel].stages.last.asInstanceOf[LogisticRegressionModel].coefficients.toArray.toSeq
    assert(coefficients(model.bestModel) == coefficients(pipeline(lr).fit(cancer, maps(0))))
  }
}
