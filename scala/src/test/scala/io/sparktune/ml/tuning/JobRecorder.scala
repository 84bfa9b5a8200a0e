package io.sparktune.ml.tuning

import java.util.concurrent.ConcurrentLinkedQueue

import scala.jdk.CollectionConverters._

import org.apache.spark.SparkContext
import org.apache.spark.scheduler.{SparkListener, SparkListenerJobStart}

/**
 * Records the job group of every Spark job started while it listens. Listener events arrive
 * asynchronously but in order, so `stop` runs a marker job and waits for it: every job started
 * before the marker has been seen by then.
 */
final class JobRecorder(sc: SparkContext) extends SparkListener {
  private val groups = new ConcurrentLinkedQueue[String]()
  private val marker = s"job-recorder-marker-${System.nanoTime()}"
  sc.addSparkListener(this)

  override def onJobStart(event: SparkListenerJobStart): Unit = {
    val group = Option(event.properties).flatMap(p => Option(p.getProperty("spark.jobGroup.id")))
    groups.add(group.getOrElse(""))
  }

  /** The job groups of the jobs started since construction (empty string: no group), marker excluded. */
  def stop(): Seq[String] = {
    val previous = sc.getLocalProperty("spark.jobGroup.id")
    sc.setJobGroup(marker, "marker")
    try sc.parallelize(Seq(1), 1).count()
    finally sc.setLocalProperty("spark.jobGroup.id", previous)
    val deadline = System.nanoTime() + 30L * 1000 * 1000 * 1000
    while (!groups.contains(marker) && System.nanoTime() < deadline) Thread.sleep(20)
    sc.removeSparkListener(this)
    assert(groups.contains(marker), "the marker job was never seen")
    groups.asScala.toSeq.filter(_ != marker)
  }
}
