package io.sparktune.ml.tuning

import org.apache.spark.ml.{Model, PipelineModel}
import org.apache.spark.ml.classification.{LogisticRegression, LogisticRegressionModel}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.tuning.{CrossValidator => SparkCrossValidator, TrainValidationSplit => SparkTVS}

import io.sparktune.space.Hp

/**
 * TrainValidationSplit against Spark's on the same pipeline, maps, split and seed; and the
 * drop-in parity of both validators' collectSubModels.
 */
class TrainValidationSplitSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(10)
  private lazy val pipe = pipeline(lr)
  private val grid: Array[ParamMap] = regularizationGrid(lr)
  private val seed = 13L

  private def coefficients(model: Model[_]): Seq[Double] =
    model.asInstanceOf[PipelineModel].stages.last.asInstanceOf[LogisticRegressionModel].coefficients.toArray.toSeq

  private def close(a: Seq[Double], b: Seq[Double]): Boolean =
    a.length == b.length && a.zip(b).forall { case (x, y) => math.abs(x - y) <= 1e-12 }

  test("the defaults and validators are Spark's") {
    val ours = new TrainValidationSplit()
    val theirs = new SparkTVS()
    assert(ours.getTrainRatio == theirs.getTrainRatio && ours.getTrainRatio == 0.75)
    assert(ours.getParallelism == theirs.getParallelism)
    assert(ours.getCollectSubModels == theirs.getCollectSubModels && !ours.getCollectSubModels)
    intercept[IllegalArgumentException](ours.setTrainRatio(1.5))
    intercept[IllegalArgumentException](ours.setParallelism(0))
    assert(new CrossValidator().getCollectSubModels == new SparkCrossValidator().getCollectSubModels)
    intercept[IllegalArgumentException](new CrossValidator().setNumFolds(1))
  }

  test("grid: validationMetrics, best model and subModels equal Spark's TrainValidationSplit's") {
    val spark = new SparkTVS().setEstimator(pipe).setEstimatorParamMaps(grid)
      .setEvaluator(new BinaryClassificationEvaluator()).setSeed(seed).setCollectSubModels(true).fit(cancer)
    val ours = new TrainValidationSplit().setEstimator(pipe).setEstimatorParamMaps(grid)
      .setEvaluator(new BinaryClassificationEvaluator()).setSeed(seed).setParallelism(2)
      .setCollectSubModels(true).fit(cancer)
    assert(ours.validationMetrics.length == grid.length)
    ours.validationMetrics.zip(spark.validationMetrics).zipWithIndex.foreach { case ((a, b), i) =>
      assert(math.abs(a - b) <= 1e-12, s"map $i: sparktune $a, Spark $b")
    }
    assert(ours.bestIndex == spark.validationMetrics.indexOf(spark.validationMetrics.max))
    assert(close(coefficients(ours.bestModel), coefficients(spark.bestModel)), "the refitted best models differ")
    assert(ours.hasSubModels && ours.subModels.length == grid.length)
    ours.subModels.zip(spark.subModels).foreach { case (a, b) => assert(close(coefficients(a), coefficients(b))) }
    assert(ours.transform(cancer).columns.contains("prediction"))
    assert(!new TrainValidationSplit().setEstimator(pipe).setEstimatorParamMaps(grid)
      .setEvaluator(new BinaryClassificationEvaluator()).setSeed(seed).fit(cancer).hasSubModels)
  }

  test("a search space with TPE: maxTrials trials, the best refitted") {
    val model = new TrainValidationSplit().setEstimator(pipe)
      .setSearchSpace(ParamSpace().add(lr.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0)))
      .setSampler("tpe").setMaxTrials(4).setEvaluator(new BinaryClassificationEvaluator()).setSeed(seed)
      .setParallelism(2).fit(cancer)
    assert(model.validationMetrics.length == 4 && model.validationMetrics.forall(m => m > 0.5 && m <= 1.0))
    assert(model.bestMetric == model.validationMetrics.max)
  }

  test("CrossValidator collectSubModels: subModels(fold)(map) equal Spark's") {
    val maps = grid.take(2)
    val spark = new SparkCrossValidator().setEstimator(pipe).setEstimatorParamMaps(maps)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(seed).setCollectSubModels(true)
      .fit(cancer)
    val ours = new CrossValidator().setEstimator(pipe).setEstimatorParamMaps(maps)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(seed).setParallelism(2)
      .setCollectSubModels(true).fit(cancer)
    assert(ours.subModels.length == 2 && ours.subModels.forall(_.length == maps.length))
    for (k <- 0 until 2; i <- maps.indices) {
      assert(close(coefficients(ours.subModels(k)(i)), coefficients(spark.subModels(k)(i))), s"fold $k map $i")
    }
    assert(ours.stdMetrics.length == maps.length && ours.foldMetrics.forall(_.length == 2))
    val e = intercept[IllegalArgumentException](ours.copy(ParamMap.empty).setSubModels(null).subModels)
    assert(e.getMessage.contains("collectSubModels"))
  }
}
