package io.sparktune.ml.tuning

import org.apache.spark.mllib.util.MLUtils
import org.apache.spark.sql.{Column, DataFrame, Dataset}
import org.apache.spark.sql.functions.{col, concat, lit, raise_error, rand, when}
import org.apache.spark.sql.types.StructType
import org.apache.spark.storage.StorageLevel

/** One fold (or a train-validation split): what a configuration is fitted on and what it is evaluated on. */
private[tuning] final case class Fold(training: DataFrame, validation: DataFrame) {
  /** Both sides in at most `partitions` partitions, the same rows (no shuffle). */
  def coalesce(partitions: Int): Fold = Fold(training.coalesce(partitions), validation.coalesce(partitions))

  def persist(level: StorageLevel): Fold = Fold(training.persist(level), validation.persist(level))

  def unpersist(): Unit = {
    training.unpersist()
    validation.unpersist()
  }
}

/**
 * The k folds of a data set, drawn as Spark's Scala CrossValidator or as PySpark's, so that each
 * front end reproduces the avgMetrics its users get from Spark. The folds are lazily defined; the
 * caller persists them (both Spark and PySpark cache theirs at MEMORY_AND_DISK, deserialized).
 */
private[tuning] object Folds {

  /**
   * As `org.apache.spark.ml.tuning.CrossValidator.fit`: `MLUtils.kFold` on the rows (with the Long
   * seed, the overload Spark 4 calls), or by `foldCol` (that column dropped, as Spark does).
   */
  def scala(dataset: Dataset[_], numFolds: Int, seed: Long, foldCol: String): Seq[Fold] = {
    val session = dataset.sparkSession
    val schema = dataset.schema
    val (splits, splitSchema) =
      if (foldCol.isEmpty) (MLUtils.kFold(dataset.toDF().rdd, numFolds, seed), schema)
      else (MLUtils.kFold(dataset.toDF(), numFolds, foldCol), StructType(schema.filter(_.name != foldCol).toArray))
    splits.toSeq.map { case (training, validation) =>
      Fold(session.createDataFrame(training, splitSchema), session.createDataFrame(validation, splitSchema))
    }
  }

  /**
   * As `pyspark.ml.tuning.CrossValidator._kFold`: a `rand(seed)` column named `<uid>_rand` is added
   * (and kept, as PySpark keeps it), fold i validates on the rows with i/k <= rand < (i+1)/k;
   * or by `foldCol`, checked to lie in [0, numFolds).
   */
  def pyspark(dataset: Dataset[_], numFolds: Int, seed: Long, foldCol: String, uid: String): Seq[Fold] =
    if (foldCol.isEmpty) {
      val randCol = s"${uid}_rand"
      val df = dataset.select(col("*"), rand(seed).alias(randCol))
      val h = 1.0 / numFolds
      (0 until numFolds).map { i =>
        val inFold: Column = df(randCol) >= i * h && df(randCol) < (i + 1) * h
        Fold(df.filter(!inFold), df.filter(inFold))
      }
    } else {
      val fold = col(foldCol)
      val checked = dataset.withColumn(foldCol, when(lit(0) <= fold && fold < lit(numFolds), fold).otherwise(
        raise_error(concat(lit(s"Fold number must be in range [0, $numFolds), but got "), fold.cast("string")))))
      (0 until numFolds).map(i => Fold(checked.filter(fold =!= lit(i)), checked.filter(fold === lit(i))))
    }

  /** As `org.apache.spark.ml.tuning.TrainValidationSplit.fit`: `randomSplit([trainRatio, 1 - trainRatio], seed)`. */
  def scalaTrainValidation(dataset: Dataset[_], trainRatio: Double, seed: Long): Fold = {
    val Array(training, validation) = dataset.toDF().randomSplit(Array(trainRatio, 1 - trainRatio), seed)
    Fold(training, validation)
  }

  /**
   * As `pyspark.ml.tuning.TrainValidationSplit._fit`: a `rand(seed)` column named `<uid>_rand` (kept,
   * as PySpark keeps it), validating on the rows with rand >= trainRatio.
   */
  def pysparkTrainValidation(dataset: Dataset[_], trainRatio: Double, seed: Long, uid: String): Fold = {
    val randCol = s"${uid}_rand"
    val df = dataset.select(col("*"), rand(seed).alias(randCol))
    val inValidation = df(randCol) >= trainRatio
    Fold(df.filter(!inValidation), df.filter(inValidation))
  }
}
