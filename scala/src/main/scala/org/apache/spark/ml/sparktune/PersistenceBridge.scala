package org.apache.spark.ml.sparktune

import org.json4s.{JObject, JValue}

import org.apache.spark.ml.param.Params
import org.apache.spark.ml.util.{DefaultParamsReader, DefaultParamsWriter, MetaAlgorithmReadWrite}
import org.apache.spark.sql.SparkSession

/**
 * sparktune's door to Spark ML's persistence helpers, which are private to `org.apache.spark.ml`:
 * so that sparktune's tuners write and read the `metadata` file exactly as Spark's own stages do
 * (class, timestamp, sparkVersion, uid, paramMap, defaultParamMap), through the same code, Spark
 * Connect's local saving mode included. Internal to sparktune, not an API.
 */
object PersistenceBridge {

  /** `DefaultParamsWriter.saveMetadata`: `path/metadata`, with `paramMap` as given. */
  def saveMetadata(instance: Params, path: String, spark: SparkSession, extraMetadata: JObject,
      paramMap: JValue): Unit =
    DefaultParamsWriter.saveMetadata(instance, path, spark, Some(extraMetadata), Some(paramMap))

  /** `path/metadata`, whatever class saved it. */
  def loadMetadata(path: String, spark: SparkSession): SavedMetadata =
    new SavedMetadata(DefaultParamsReader.loadMetadata(path, spark))

  /** The stage saved at `path`, by the `read` of the class its metadata names (as Pipeline loads its stages). */
  def loadParamsInstance[T](path: String, spark: SparkSession): T =
    DefaultParamsReader.loadParamsInstance[T](path, spark)

  /** Spark's uid -> Params map of a (possibly compound) stage: its meta-algorithms' stages included. */
  def uidMap(instance: Params): Map[String, Params] = MetaAlgorithmReadWrite.getUidMap(instance)
}

/** A saved stage's metadata (Spark's `DefaultParamsReader.Metadata`, which is private to Spark ML). */
final class SavedMetadata private[sparktune] (underlying: DefaultParamsReader.Metadata) {
  def className: String = underlying.className
  def uid: String = underlying.uid
  def sparkVersion: String = underlying.sparkVersion
  /** The `paramMap` object. */
  def params: JValue = underlying.params
  /** The whole metadata object (extra fields included). */
  def metadata: JValue = underlying.metadata

  /** Sets `instance`'s params and defaults from the metadata, as Spark's readers do, but those in `skip`. */
  def setParams(instance: Params, skip: Seq[String]): Unit = underlying.getAndSetParams(instance, Some(skip.toList))
}
