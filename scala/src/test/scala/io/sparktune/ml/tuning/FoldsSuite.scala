package io.sparktune.ml.tuning

import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.functions.{col, monotonically_increasing_id}

/** The "pyspark" fold split: PySpark's `_kFold`, checked against figures PySpark 4.1.0 gave. */
class FoldsSuite extends SparkSuiteBase {

  private lazy val withId = cancer.withColumn("rid", monotonically_increasing_id()).cache()

  private def ids(df: org.apache.spark.sql.DataFrame): Set[Long] =
    df.select(col("rid")).collect().map(_.getLong(0)).toSet

  test("pyspark folds: the validation folds are disjoint, cover the data set, and train on the rest") {
    val folds = Folds.pyspark(withId, 3, seed = 7L, foldCol = "", uid = "cv_test")
    val all = ids(withId)
    val validations = folds.map(f => ids(f.validation))
    assert(validations.map(_.size).sum == all.size, "a row is in two validation folds, or in none")
    assert(validations.reduce(_ ++ _) == all)
    for (i <- validations.indices; j <- validations.indices if i < j) {
      assert((validations(i) & validations(j)).isEmpty, s"folds $i and $j share rows")
    }
    folds.zip(validations).foreach { case (f, v) => assert(ids(f.training) == all -- v) }
    // PySpark keeps its rand column in both sides, named after the tuner's uid.
    assert(folds.head.training.columns.contains("cv_test_rand"))
  }

  test("pyspark folds are PySpark's: the fold sizes and row-id sums pyspark 4.1.0 gives for seed 7") {
    // From pyspark.ml.tuning.CrossValidator(numFolds=3, seed=7)._kFold on this CSV read the same way
    // (one partition), with monotonically_increasing_id as rid.
    val folds = Folds.pyspark(withId, 3, seed = 7L, foldCol = "", uid = "cv_test")
    val sizes = folds.map(_.validation.count())
    val sums = folds.map(_.validation.agg(org.apache.spark.sql.functions.sum("rid")).first().getLong(0))
    assert(sizes == Seq(200L, 175L, 194L))
    assert(sums == Seq(57300L, 51416L, 52880L))
  }

  test("pyspark folds from a fold column: rows by their fold number, out-of-range numbers an error") {
    val withFold = withId.withColumn("fold", (col("rid") % 3).cast("int"))
    val folds = Folds.pyspark(withFold, 3, seed = 0L, foldCol = "fold", uid = "cv_test")
    folds.zipWithIndex.foreach { case (f, i) =>
      assert(ids(f.validation) == ids(withFold.filter(col("fold") === i)))
    }
    val bad = Folds.pyspark(withId.withColumn("fold", (col("rid") % 4).cast("int")), 3, 0L, "fold", "cv_test")
    val e = intercept[Exception](bad.head.training.count())
    assert(e.getMessage.contains("Fold number must be in range [0, 3)"))
  }

  test("foldSplit pyspark: avgMetrics equal PySpark's CrossValidator on the same grid and seed") {
    // pyspark.ml.tuning.CrossValidator(estimator=the same pipeline, numFolds=3, seed=7,
    // evaluator=BinaryClassificationEvaluator()).fit(df).avgMetrics with pyspark 4.1.0, the grid
    // ParamGridBuilder().addGrid(regParam, [0.001, 0.01, 0.1]).addGrid(elasticNetParam, [0.0, 1.0]).
    val pyspark = Seq(0.9967111230281565, 0.9960917314701678, 0.9961498847774387, 0.993658829507075,
      0.9943611237308478, 0.9856397719906042)
    val lr = new LogisticRegression().setMaxIter(10)
    val maps = for (reg <- Array(0.001, 0.01, 0.1); en <- Array(0.0, 1.0))
      yield ParamMap(lr.regParam -> reg, lr.elasticNetParam -> en)
    val model = new CrossValidator().setEstimator(pipeline(lr)).setEstimatorParamMaps(maps)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(3).setSeed(7L).setParallelism(2)
      .setFoldSplit("pyspark").fit(cancer)
    model.avgMetrics.zip(pyspark).zipWithIndex.foreach { case ((ours, theirs), i) =>
      // 1e-9, not 1e-12: the figures were computed once, in another process, possibly with other BLAS.
      assert(math.abs(ours - theirs) <= 1e-9, s"map $i: sparktune $ours, PySpark $theirs")
    }
    assert(model.bestIndex == 0)
  }
}
