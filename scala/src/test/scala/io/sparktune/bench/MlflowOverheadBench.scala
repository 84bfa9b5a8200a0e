package io.sparktune.bench

import java.nio.file.Files

import org.apache.spark.ml.{Pipeline, PipelineStage}
import org.apache.spark.ml.classification.LogisticRegression
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.sql.SparkSession

import io.sparktune.ml.tracking.MlflowServer
import io.sparktune.ml.tuning.{CrossValidator, ParamSpace}
import io.sparktune.space.Hp

/**
 * The wall time MLflow logging adds to a CrossValidator fit: the same random search on
 * examples/data/breast_cancer.csv with logging off and on (a real `mlflow server`, sqlite store),
 * alternated, after a warm-up fit. Prints figures, asserts nothing:
 * `./sbt "sparktune/Test/runMain io.sparktune.bench.MlflowOverheadBench [trials] [rounds]"`.
 */
object MlflowOverheadBench {

  def main(args: Array[String]): Unit = {
    val trials = args.headOption.map(_.toInt).getOrElse(16)
    val rounds = args.lift(1).map(_.toInt).getOrElse(2)
    val server = new MlflowServer(Files.createTempDirectory("sparktune-mlflow-bench")).awaitHealthy()
    val spark = SparkSession.builder().master("local[2]").appName("MlflowOverheadBench")
      .config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try {
      val data = Iterator.iterate(new java.io.File(".").getAbsoluteFile)(_.getParentFile).takeWhile(_ != null)
        .map(new java.io.File(_, "examples/data/breast_cancer.csv")).find(_.isFile)
        .getOrElse(sys.error("examples/data/breast_cancer.csv not found above the working directory"))
      val df = spark.read.option("header", "true").option("inferSchema", "true").csv(data.getPath).cache()
      df.count()
      val lr = new LogisticRegression().setMaxIter(10)
      val pipeline = new Pipeline().setStages(Array[PipelineStage](
        new VectorAssembler().setInputCols(df.columns.filter(_ != "label")).setOutputCol("raw"),
        new StandardScaler().setInputCol("raw").setOutputCol("features"), lr))
      val space = ParamSpace()
        .add(lr.regParam, Hp.loguniform("regParam", math.log(1e-4), 0.0))
        .add(lr.elasticNetParam, Hp.uniform("elasticNetParam", 0.0, 1.0))
      def fit(logging: Boolean): Double = {
        val cv = new CrossValidator().setEstimator(pipeline).setEvaluator(new BinaryClassificationEvaluator())
          .setSearchSpace(space).setMaxTrials(trials).setNumFolds(3).setParallelism(2).setSeed(1L)
          .setMlflowLogging(logging).setMlflowTrackingUri(server.uri).setMlflowExperimentName("bench")
        val start = System.nanoTime()
        cv.fit(df)
        (System.nanoTime() - start) / 1e9
      }
      fit(logging = false) // warm-up: JIT, Spark's first jobs
      val walls = (1 to rounds).map(_ => (fit(logging = false), fit(logging = true)))
      val off = walls.map(_._1).sum / rounds
      val on = walls.map(_._2).sum / rounds
      println(s"CrossValidator, $trials trials x 3 folds, parallelism 2, local[2], breast_cancer; mean of $rounds rounds")
      walls.zipWithIndex.foreach { case ((a, b), i) => println(f"  round ${i + 1}: off $a%7.2f s   on $b%7.2f s") }
      println(f"  logging off ${off}%7.2f s   logging on ${on}%7.2f s   overhead ${100 * (on - off) / off}%+.1f %%")
    } finally {
      spark.stop()
      server.close()
    }
  }
}
