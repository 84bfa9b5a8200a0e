package io.sparktune.ml.tuning

import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.param.ParamMap

import io.sparktune.JsonCodec
import io.sparktune.space.Hp

/** Misconfigurations fail with an error that names what is wrong, before any Spark job runs. */
class ErrorsSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(5)

  private def cv() = new CrossValidator().setEstimator(pipeline(lr))
    .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setMaxTrials(2)

  /** Runs `body`, which must throw `T`, and checks that it started no Spark job. */
  private def failsWithoutJobs[T <: AnyRef](body: => Any)(implicit ct: reflect.ClassTag[T]): T = {
    cancer.count() // the data's own jobs (schema inference, cache) happen before listening
    val recorder = new JobRecorder(spark.sparkContext)
    val e = intercept[T](body)
    val jobs = recorder.stop()
    assert(jobs.isEmpty, s"jobs ran before the error: $jobs")
    e
  }

  test("a param that belongs to no stage of the estimator is an error naming it, before any job") {
    val stranger = new LogisticRegression()
    val c = cv().setSearchSpace(ParamSpace()
      .add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1))
      .add(stranger.elasticNetParam, Hp.uniform("elasticNet", 0.0, 1.0)))
    val e = failsWithoutJobs[IllegalArgumentException](c.fit(cancer))
    assert(e.getMessage.contains(s"${stranger.uid}.elasticNetParam"), e.getMessage)
    assert(e.getMessage.contains("belongs to no stage"), e.getMessage)
    // A stage uid and param name from Python that name nothing: the same error.
    val byName = cv().setSearchSpace(
      ParamSpace().add(lr.uid, "noSuchParam", """{"hp": "uniform", "low": 0, "high": 1}"""))
    assert(intercept[IllegalArgumentException](byName.fit(cancer)).getMessage.contains(s"${lr.uid}.noSuchParam"))
  }

  test("both or neither of estimatorParamMaps and searchSpace is an error") {
    val both = cv().setEstimatorParamMaps(Array(ParamMap(lr.regParam -> 0.1)))
      .setSearchSpace(ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1)))
    val e1 = failsWithoutJobs[IllegalArgumentException](both.fit(cancer))
    assert(e1.getMessage.contains("not both"), e1.getMessage)
    val e2 = failsWithoutJobs[IllegalArgumentException](cv().fit(cancer))
    assert(e2.getMessage.contains("estimatorParamMaps") && e2.getMessage.contains("searchSpace"), e2.getMessage)
  }

  test("a value of the wrong type for its param is an error naming the param and the label") {
    val c = cv().setSearchSpace(ParamSpace().add(lr.maxIter, Hp.uniform("iterations", 1.0, 5.0)))
    val e = failsWithoutJobs[IllegalArgumentException](c.fit(cancer))
    assert(e.getMessage.contains(s"${lr.uid}.maxIter") && e.getMessage.contains("an Int"), e.getMessage)
    assert(e.getMessage.contains("'iterations'"), e.getMessage)
  }

  test("values that break a param's validator fail their trials; no trial left is an error with the reason") {
    val c = cv().setSearchSpace(ParamSpace().add(lr.regParam, Hp.uniform("regParam", -1.0, -0.5)))
    val e = failsWithoutJobs[IllegalStateException](c.fit(cancer))
    assert(e.getMessage.contains("no trial succeeded"), e.getMessage)
    assert(e.getMessage.contains(s"${lr.uid}.regParam given invalid value"), e.getMessage)
  }

  test("ParamValues converts to the param's type and names the param on a mismatch") {
    def json(s: String) = JsonCodec.parse(s, "test")
    assert(ParamValues.convert(lr.maxIter, "m", json("3.0")) == 3)
    assert(ParamValues.convert(lr.regParam, "r", json("1")) == 1.0)
    assert(ParamValues.convert(lr.fitIntercept, "f", json("false")) == false)
    assert(ParamValues.convert(lr.family, "f", json("\"binomial\"")) == "binomial")
    val thresholds = ParamValues.convert(lr.thresholds, "t", json("[0.4, 0.6]"))
    assert(thresholds.asInstanceOf[Array[Double]].toSeq == Seq(0.4, 0.6))
    val e = intercept[IllegalArgumentException](ParamValues.convert(lr.fitIntercept, "f", json("1")))
    assert(e.getMessage.contains(s"${lr.uid}.fitIntercept") && e.getMessage.contains("a Boolean"))
    intercept[IllegalArgumentException](ParamValues.convert(lr.maxIter, "m", json("2.5")))
    intercept[IllegalArgumentException](ParamValues.convert(lr.family, "f", json("2")))
  }

  test("a grid map setting a param of no stage, a sampler on a grid, a missing label column: errors before any job") {
    val stranger = new LogisticRegression()
    val grid = cv().setEstimatorParamMaps(Array(ParamMap(lr.regParam -> 0.1), ParamMap(stranger.regParam -> 0.1)))
    val e1 = failsWithoutJobs[IllegalArgumentException](grid.fit(cancer))
    assert(e1.getMessage.contains(s"estimatorParamMaps sets param ${stranger.uid}.regParam"), e1.getMessage)
    val sampled = cv().setEstimatorParamMaps(Array(ParamMap(lr.regParam -> 0.1))).setSampler("tpe")
    val e2 = failsWithoutJobs[IllegalArgumentException](sampled.fit(cancer))
    assert(e2.getMessage.contains("sampler 'tpe'"), e2.getMessage)
    val labelled = cv().setSearchSpace(ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1)))
      .setEvaluator(new BinaryClassificationEvaluator().setLabelCol("diagnosis"))
    val e3 = failsWithoutJobs[IllegalArgumentException](labelled.fit(cancer))
    assert(e3.getMessage.contains("labelCol 'diagnosis'"), e3.getMessage)
    intercept[IllegalArgumentException](cv().setSampler("annealing"))
    intercept[IllegalArgumentException](cv().setPruning("hyperband"))
    val e4 = failsWithoutJobs[IllegalArgumentException](cv().setPruning("""{"kind": "median", "min_step": 0}""")
      .setSearchSpace(ParamSpace().add(lr.regParam, Hp.uniform("regParam", 0.0, 0.1))).fit(cancer))
    assert(e4.getMessage.contains("min_step"), e4.getMessage)
  }
}
