package io.sparktune.ml.tuning

import org.scalatest.funsuite.AnyFunSuite
import org.slf4j.LoggerFactory

import io.sparktune.ml.tracking.CapturedLogs

/** MLlib's ERROR for a fit in a cancelled sparktune job group is dropped; its other errors are kept. */
class CancelledFitLogSuite extends AnyFunSuite {

  test("an ERROR naming a cancelled sparktune job group is dropped, any other ERROR of the logger kept") {
    val cancelled = "org.apache.spark.SparkException: [SPARK_JOB_CANCELLED] Job 2527 cancelled part of " +
      "cancelled job group sparktune-CrossValidator_35054a0800ab-trial-2 SQLSTATE: XXKDA\n\tat ..."
    val othersCancelled = "org.apache.spark.SparkException: [SPARK_JOB_CANCELLED] Job 3 cancelled part of " +
      "cancelled job group my-own-group SQLSTATE: XXKDA"
    val failed = "java.lang.IllegalArgumentException: requirement failed: labels must be in [0, numClasses)"
    val (_, logs) = CapturedLogs {
      CancelledFitLog.install()
      CancelledFitLog.install() // a second fit: still one filter, nothing else changes
      val instrumentation = LoggerFactory.getLogger(CancelledFitLog.InstrumentationLogger)
      Seq(cancelled, othersCancelled, failed).foreach(m => instrumentation.error(m))
    }
    // Only ours: anything else logged meanwhile is not this test's.
    assert(logs.filter(Set(cancelled, othersCancelled, failed)) == Seq(othersCancelled, failed))
  }
}
