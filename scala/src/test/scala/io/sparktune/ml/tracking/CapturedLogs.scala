package io.sparktune.ml.tracking

import scala.collection.mutable

import org.apache.logging.log4j.LogManager
import org.apache.logging.log4j.core.{LogEvent, Logger => CoreLogger}
import org.apache.logging.log4j.core.appender.AbstractAppender
import org.apache.logging.log4j.core.config.Property

/** The messages logged (at the root logger's level or above) while a test's code runs. */
object CapturedLogs {

  def apply[T](body: => T): (T, Seq[String]) = {
    val seen = mutable.ArrayBuffer.empty[String]
    val appender = new AbstractAppender("sparktune-test", null, null, true, Property.EMPTY_ARRAY) {
      override def append(event: LogEvent): Unit = seen.synchronized(seen += event.getMessage.getFormattedMessage)
    }
    appender.start()
    val root = LogManager.getRootLogger.asInstanceOf[CoreLogger]
    root.addAppender(appender)
    try (body, seen.synchronized(seen.toList))
    finally root.removeAppender(appender)
  }
}
