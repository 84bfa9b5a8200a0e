package io.sparktune.ml.tuning

import scala.collection.mutable

import org.apache.logging.log4j.LogManager
import org.apache.logging.log4j.core.{LogEvent, LoggerContext}
import org.apache.logging.log4j.core.appender.AbstractAppender
import org.apache.logging.log4j.core.config.Property
import org.scalatest.funsuite.AnyFunSuite
import org.slf4j.LoggerFactory

/** MLlib's ERROR for a fit in a cancelled sparktune job group is dropped; its other errors are kept. */
class CancelledFitLogSuite extends AnyFunSuite {

  private final class Captured extends AbstractAppender("captured", null, null, true, Property.EMPTY_ARRAY) {
    val messages = mutable.ArrayBuffer.empty[String]
    override def append(event: LogEvent): Unit = synchronized {
      // Only this logger's: other suites may log meanwhile.
      if (event.getLoggerName == CancelledFitLog.InstrumentationLogger) messages += event.getMessage.getFormattedMessage
    }
  }

  test("an ERROR naming a cancelled sparktune job group is dropped, any other ERROR of the logger kept") {
    val context = LogManager.getContext(false).asInstanceOf[LoggerContext]
    val captured = new Captured
    captured.start()
    val root = context.getConfiguration.getRootLogger
    root.addAppender(captured, null, null)
    context.updateLoggers()
    try {
      CancelledFitLog.install()
      CancelledFitLog.install() // a second fit: still one filter, nothing else changes
      val instrumentation = LoggerFactory.getLogger(CancelledFitLog.InstrumentationLogger)
      val cancelled = "org.apache.spark.SparkException: [SPARK_JOB_CANCELLED] Job 2527 cancelled part of " +
        "cancelled job group sparktune-CrossValidator_35054a0800ab-trial-2 SQLSTATE: XXKDA\n\tat ..."
      val othersCancelled = "org.apache.spark.SparkException: [SPARK_JOB_CANCELLED] Job 3 cancelled part of " +
        "cancelled job group my-own-group SQLSTATE: XXKDA"
      val failed = "java.lang.IllegalArgumentException: requirement failed: labels must be in [0, numClasses)"
      instrumentation.error(cancelled)
      instrumentation.error(othersCancelled)
      instrumentation.error(failed)
      assert(captured.messages.toSeq == Seq(othersCancelled, failed))
    } finally {
      root.removeAppender("captured")
      context.updateLoggers()
      captured.stop()
    }
  }
}
