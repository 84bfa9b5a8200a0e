package io.sparktune.bench

import java.util.concurrent.{Executors, TimeUnit}

import scala.concurrent.duration.Duration
import scala.concurrent.{Await, ExecutionContext, Future}

import org.apache.spark.sql.SparkSession

import io.sparktune.hyperopt.SparkTrials
import io.sparktune.space.{Hp, SearchSpace}

/**
 * Scheduling efficiency of Scala SparkTrials, the figure ../shared/bench/sparktrials_overhead.py
 * gives for Python: N trials of an objective that sleeps D seconds, parallelism 2 on local[2];
 * efficiency = (N * D / 2) / wall. Beside it, Spark's own floor on the same session: the same N
 * one-task jobs of a D-second sleep, as many in flight as fmin keeps, with no tuner at all.
 * Rounds alternate the two after a warm-up of each. Prints figures, asserts nothing:
 * `./sbt "sparktune/Test/runMain io.sparktune.bench.SparkTrialsOverheadBench 32 0.5 3"`.
 */
object SparkTrialsOverheadBench {

  private val Parallelism = 2
  // Jobs in flight: fmin's running trials plus its queue; the bare jobs get the same.
  private val InFlight = Parallelism + 1

  def main(args: Array[String]): Unit = {
    val n = args.headOption.map(_.toInt).getOrElse(32)
    val seconds = args.lift(1).map(_.toDouble).getOrElse(0.5)
    val rounds = args.lift(2).map(_.toInt).getOrElse(3)
    val spark = SparkSession.builder().master(s"local[$Parallelism]").appName("SparkTrialsOverheadBench")
      .config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    val ideal = n * seconds / Parallelism
    try {
      sparkTrials(spark, math.min(n, 8), seconds)
      bareJobs(spark, math.min(n, 8), seconds)
      println(s"$n trials x $seconds s, parallelism $Parallelism, local[$Parallelism]: efficiency = ideal / wall " +
        f"(ideal $ideal%.2f s), after a warm-up")
      val walls = (1 to rounds).map(_ => (sparkTrials(spark, n, seconds), bareJobs(spark, n, seconds)))
      walls.zipWithIndex.foreach { case ((tuned, bare), i) =>
        println(f"  round ${i + 1}: SparkTrials ${ideal / tuned}%.3f (wall $tuned%.2f s)   " +
          f"bare Spark jobs ${ideal / bare}%.3f (wall $bare%.2f s)")
      }
    } finally spark.stop()
  }

  /** The wall of one fmin over N sleeping trials. */
  private def sparkTrials(spark: SparkSession, n: Int, seconds: Double): Double = {
    val millis = (seconds * 1000).toLong
    val objective = (p: Map[String, Any]) => {
      Thread.sleep(millis)
      math.pow(p("x").asInstanceOf[Double] - 1, 2)
    }
    val start = System.nanoTime()
    new SparkTrials(spark, parallelism = Parallelism, mlflowLogging = false)
      .fmin(objective, SearchSpace(Hp.dict("x" -> Hp.uniform("x", -5.0, 5.0))), maxEvals = n,
        queue = InFlight - Parallelism, showProgress = false)
    (System.nanoTime() - start) / 1e9
  }

  /** The wall of N one-task jobs that sleep, `InFlight` at once: what Spark itself costs. */
  private def bareJobs(spark: SparkSession, n: Int, seconds: Double): Double = {
    val millis = (seconds * 1000).toLong
    val sc = spark.sparkContext
    val pool = Executors.newFixedThreadPool(InFlight)
    implicit val ec: ExecutionContext = ExecutionContext.fromExecutor(pool)
    val start = System.nanoTime()
    try {
      val jobs = (1 to n).map(i => Future(sc.parallelize(Seq(i), 1).map { v => Thread.sleep(millis); v }.collect()))
      jobs.foreach(Await.result(_, Duration.Inf))
      (System.nanoTime() - start) / 1e9
    } finally {
      pool.shutdown()
      pool.awaitTermination(1, TimeUnit.MINUTES)
    }
  }
}
