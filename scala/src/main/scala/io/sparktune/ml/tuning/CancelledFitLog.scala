package io.sparktune.ml.tuning

import org.apache.logging.log4j.{Level, LogManager}
import org.apache.logging.log4j.core.{Filter, LogEvent, LoggerContext}
import org.apache.logging.log4j.core.config.LoggerConfig
import org.apache.logging.log4j.core.filter.{AbstractFilter, CompositeFilter}

/**
 * Quiets MLlib's report of a fit that sparktune cancelled itself. A pruned trial's running folds,
 * and every trial under way at the timeout, are cancelled through their job group; MLlib's
 * Instrumentation then logs each cancelled fit as an ERROR with its whole stack trace (twice inside
 * a Pipeline), which looks like a failure in a notebook although the trial is recorded as pruned
 * or cancelled, with its reason. The filter drops exactly those: ERRORs of Instrumentation's logger
 * whose text names a cancelled job group of sparktune's. Any other error of a fit still shows.
 */
private[tuning] object CancelledFitLog {

  val InstrumentationLogger = "org.apache.spark.ml.util.Instrumentation"

  /** Spark's SPARK_JOB_CANCELLED text for a job of a cancelled group, with sparktune's group prefix. */
  def isSparktuneCancellation(message: String): Boolean =
    message != null && message.contains("cancelled job group sparktune-")

  private final class DropSparktuneCancellations
      extends AbstractFilter(Filter.Result.DENY, Filter.Result.NEUTRAL) {
    override def filter(event: LogEvent): Filter.Result = {
      val message = Option(event.getMessage).map(_.getFormattedMessage).orNull
      if (event.getLevel == Level.ERROR && isSparktuneCancellation(message)) onMatch else onMismatch
    }
  }

  /**
   * Adds the filter to the current log4j configuration, once per configuration (a reconfigured
   * log4j gets it at the next fit). Does nothing when log4j 2's core is not the logging backend.
   */
  def install(): Unit = synchronized {
    LogManager.getContext(false) match {
      case context: LoggerContext =>
        val config = context.getConfiguration
        val current = config.getLoggerConfig(InstrumentationLogger)
        val own = if (current.getName == InstrumentationLogger) current else {
          // No level: it keeps following the root's (sc.setLogLevel); additive: the root's appenders.
          val created = new LoggerConfig(InstrumentationLogger, null, true)
          config.addLogger(InstrumentationLogger, created)
          created
        }
        val filters = Option(own.getFilter).toSeq.flatMap {
          case composite: CompositeFilter => composite.getFiltersArray.toSeq
          case single => Seq(single)
        }
        if (!filters.exists(_.isInstanceOf[DropSparktuneCancellations])) {
          own.addFilter(new DropSparktuneCancellations)
          context.updateLoggers()
        }
      case _ => // another backend: its users see MLlib's messages as they are
    }
  }
}
