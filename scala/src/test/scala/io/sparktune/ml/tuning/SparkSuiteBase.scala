package io.sparktune.ml.tuning

import java.io.File
import java.nio.file.{Files, Path}

import org.apache.spark.ml.{Pipeline, PipelineStage}
import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.scalatest.funsuite.AnyFunSuite

/** One local SparkSession for a suite (the machine has 2 cores: small data, few iterations). */
trait SparkSuiteBase extends AnyFunSuite {

  lazy val spark: SparkSession = {
    val session = SparkSession.builder()
      .master("local[2]")
      .appName(getClass.getSimpleName)
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "4")
      .getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    session
  }

  /** examples/data/breast_cancer.csv, found from the working directory upwards. */
  lazy val dataFile: File = Iterator.iterate(new File(".").getAbsoluteFile)(_.getParentFile)
    .takeWhile(_ != null)
    .map(dir => new File(dir, "examples/data/breast_cancer.csv"))
    .find(_.isFile)
    .getOrElse(fail("examples/data/breast_cancer.csv not found above " + new File(".").getAbsolutePath))

  /** The breast cancer data set (569 rows, 30 numeric features + label), one partition, as read. */
  lazy val cancer: DataFrame =
    spark.read.option("header", "true").option("inferSchema", "true").csv(dataFile.getPath).cache()

  lazy val featureCols: Array[String] = cancer.columns.filter(_ != "label")

  /** VectorAssembler + StandardScaler + `lr`. */
  def pipeline(lr: LogisticRegression): Pipeline = new Pipeline().setStages(Array[PipelineStage](
    new VectorAssembler().setInputCols(featureCols).setOutputCol("raw"),
    new StandardScaler().setInputCol("raw").setOutputCol("features"),
    lr))

  /**
   * regParam {0.001, 0.1} x elasticNetParam {0, 1} of `lr`: four maps, built with sparktune's
   * ParamGridBuilder (Spark's, re-exported by the package object).
   */
  def regularizationGrid(lr: LogisticRegression): Array[ParamMap] = new ParamGridBuilder()
    .addGrid(lr.regParam, Array(0.001, 0.1))
    .addGrid(lr.elasticNetParam, Array(0.0, 1.0))
    .build()

  /**
   * Three sound configurations of `lr` in [[pipeline]], then one that learns nothing (no iteration:
   * AUC 0.5 on every fold), which median pruning stops after its first fold.
   */
  def prunableMaps(lr: LogisticRegression): Array[ParamMap] =
    Array(0.001, 0.01, 0.1).map(r => ParamMap(lr.regParam -> r, lr.maxIter -> 10)) :+
      ParamMap(lr.regParam -> 0.01, lr.maxIter -> 0)

  def tempDir(prefix: String): Path = {
    val dir = Files.createTempDirectory(prefix)
    dir.toFile.deleteOnExit()
    dir
  }
}
