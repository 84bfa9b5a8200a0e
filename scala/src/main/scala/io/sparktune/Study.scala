package io.sparktune

import scala.collection.immutable.VectorMap
import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.ObjectNode

import io.sparktune.jni.Native
import io.sparktune.space.SearchSpace

/**
 * A study: the ask / tell loop over a search space, run by the native core (driver side only;
 * nothing here is meant to be serialised to executors).
 * {{{
 *   Using.resource(Study.create(space, sampler = "random", seed = 42, direction = "maximize")) { study =>
 *     for (trial <- study.ask(4)) study.tell(trial.id, Outcome.ok(objective(trial.values)))
 *     study.best
 *   }
 * }}}
 * With a `store` (a journal file), every ask and tell is written down (a tell is fsynced before it
 * returns) and creating the study again with the same store resumes it: same trials, same draws
 * ahead; trials left running by a stopped process come back cancelled.
 *
 * Errors: IllegalArgumentException for wrong input (a broken space rule names the label; an unknown
 * trial id), IllegalStateException for a closed study or a trial told twice, java.io.IOException
 * for the store's file, [[io.sparktune.jni.SparktuneNativeException]] for a bug in the core.
 *
 * Thread-safe: the core serialises the calls on one study.
 */
final class Study private (native: Native, val handle: Long) extends AutoCloseable {

  /** `n` new running trials; fewer (possibly none) when a grid is exhausted. */
  def ask(n: Int = 1): Seq[Trial] = Trial.parseArray(native.ask(handle, n), "ask")

  /**
   * Records the outcome of running trial `trialId`; the told trial. An ok outcome needs a finite
   * value: NaN or infinity is refused (tell it as fail), as are non-finite metrics.
   */
  def tell(trialId: Long, outcome: Outcome): Trial =
    Trial.parse(native.tell(handle, trialId, outcome.toJson(trialId)), "tell")

  /** Starts a trial at a given raw point (label -> number, the active labels only). */
  def enqueue(point: Map[String, Double]): Trial = {
    val p = JsonCodec.obj()
    point.foreach { case (label, x) =>
      if (x.isNaN || x.isInfinite) throw new IllegalArgumentException(s"enqueue: label '$label' is $x, not a finite number")
      p.put(label, x)
    }
    Trial.parse(native.enqueue(handle, JsonCodec.write(p)), "enqueue")
  }

  /** Every trial, in id order. */
  def trials: Seq[Trial] = Trial.parseArray(native.trials(handle), "trials")

  /** The ok trial with the best value (ties: the lowest id), if any. */
  def best: Option[Trial] = {
    val json = native.best(handle)
    if (json == "null") None else Some(Trial.parse(json, "best"))
  }

  /** What the core warned about, e.g. a reopened store's torn last record (naming the file and offset). */
  def warnings: Seq[String] = info.get("warnings").elements.asScala.map(_.asText).toVector

  /** "minimize" or "maximize". */
  def direction: String = info.get("direction").asText

  /** The space's labels, in first-appearance order. */
  def labels: Seq[String] = info.get("labels").elements.asScala.map(_.asText).toVector

  /** How many trials the study has (running ones included). */
  def numTrials: Int = info.get("n_trials").asInt

  /**
   * The trials table as an Arrow IPC stream: id, state, value, error, started_ms, finished_ms,
   * point, values (JSON), `param.<label>` per label and `metric.<name>` per metric.
   */
  def trialsArrow: Array[Byte] = native.trialsArrow(handle)

  /**
   * Closes the study (and its store's file). Closing a study twice is an IllegalStateException, as
   * is any use after closing.
   */
  override def close(): Unit = native.closeStudy(handle)

  override def toString: String = s"Study(handle $handle)"

  private def info: JsonNode = JsonCodec.parse(native.info(handle), "info")
}

object Study {

  /**
   * Creates a study over `space` (a [[SearchSpace]], or JSON text / an Expr, converted implicitly),
   * or resumes it from `store` when that journal exists.
   *
   * @param sampler   "random" | "grid" (the contract's kinds; "qmc", "tpe" where the core has them), or
   *                  a sampler config JSON object such as `{"kind": "tpe", ...}`
   * @param seed      the random seed; a negative Long stands for its unsigned 64-bit value
   * @param direction "minimize" | "maximize"
   * @param store     the journal file, None for a study in memory
   */
  def create(
      space: SearchSpace,
      sampler: String = "random",
      seed: Long = 0L,
      direction: String = "minimize",
      store: Option[String] = None): Study =
    fromConfig(configJson(space, sampler, seed, direction, store))

  /** Creates a study from the contract's study config JSON (`{"space": .., "sampler": .., ...}`). */
  def fromConfig(configJson: String): Study = {
    val native = new Native()
    new Study(native, native.createStudy(configJson))
  }

  /** The study config JSON of these arguments (what [[create]] sends to the core). */
  def configJson(space: SearchSpace, sampler: String, seed: Long, direction: String, store: Option[String]): String = {
    if (space == null) throw new IllegalArgumentException("Study.create: space is null")
    if (sampler == null) throw new IllegalArgumentException("Study.create: sampler is null")
    if (direction == null) throw new IllegalArgumentException("Study.create: direction is null")
    if (store == null || store.contains(null)) throw new IllegalArgumentException("Study.create: store is null")
    val samplerJson =
      if (sampler.trim.startsWith("{")) JsonCodec.write(JsonCodec.parse(sampler, "sampler config"))
      else s"""{"kind":${JsonCodec.quote(sampler)}}"""
    // The space's own text goes in unchanged, so that the core sees exactly what the caller wrote.
    val storeJson = store.fold("")(path => s""","store":${JsonCodec.quote(path)}""")
    s"""{"space":${space.toJson},"sampler":$samplerJson,"seed":${java.lang.Long.toUnsignedString(seed)},""" +
      s""""direction":${JsonCodec.quote(direction)}$storeJson}"""
  }
}

/**
 * One trial as the core reports it.
 *
 * @param state    "running" | "ok" | "fail" | "cancelled" | "pruned"
 * @param point    the raw draw, label -> number, active labels only (a choice's option index, an
 *                 integer kind's integer, a float's value), in label order
 * @param values   the space evaluated at the point (dicts, lists, consts, chosen options); see
 *                 [[valuesAsScala]]
 * @param value    the objective's value (ok trials, and fail ones told with a finite value)
 * @param metrics  further metrics told with the outcome
 * @param error    why a trial failed or was cancelled
 * @param attrs    the caller's own attributes told with the outcome (JSON null when none)
 * @param startedMs  when it was asked (ms since the epoch)
 * @param finishedMs when it was told
 */
final case class Trial(
    id: Long,
    state: String,
    point: Map[String, Double],
    values: JsonNode,
    value: Option[Double],
    metrics: Map[String, Double],
    error: Option[String],
    attrs: JsonNode,
    startedMs: Long,
    finishedMs: Option[Long]) {

  def isRunning: Boolean = state == Trial.Running
  def isOk: Boolean = state == Trial.Ok

  /** The values as Scala: objects as (ordered) Maps, arrays as Vectors, integers as Long, floats as Double. */
  def valuesAsScala: Any = JsonCodec.toScala(values)

  /** The trial in the core's JSON form. */
  def toJson: String = {
    val o = JsonCodec.obj().put("id", id).put("state", state)
    val p = o.putObject("point")
    point.foreach { case (k, v) => p.put(k, v) }
    o.set[ObjectNode]("values", values)
    value.fold(o.putNull("value"))(o.put("value", _))
    val m = o.putObject("metrics")
    metrics.foreach { case (k, v) => m.put(k, v) }
    error.fold(o.putNull("error"))(o.put("error", _))
    o.set[ObjectNode]("attrs", attrs)
    o.put("started_ms", startedMs)
    finishedMs.fold(o.putNull("finished_ms"))(o.put("finished_ms", _))
    JsonCodec.write(o)
  }
}

object Trial {
  val Running = "running"
  val Ok = "ok"
  val Fail = "fail"
  val Cancelled = "cancelled"
  val Pruned = "pruned"

  /** A trial from the core's JSON form. */
  def fromJson(json: String): Trial = parse(json, "trial")

  private[sparktune] def parse(json: String, what: String): Trial = fromNode(JsonCodec.parse(json, what))

  private[sparktune] def parseArray(json: String, what: String): Seq[Trial] =
    JsonCodec.parse(json, what).elements.asScala.map(fromNode).toVector

  private def fromNode(n: JsonNode): Trial = {
    def opt(name: String): Option[JsonNode] = Option(n.get(name)).filterNot(_.isNull)
    def numbers(name: String): Map[String, Double] =
      opt(name).fold(Map.empty[String, Double])(o => VectorMap.from(o.properties.iterator.asScala.map(e => e.getKey -> e.getValue.doubleValue)))
    Trial(
      id = n.get("id").asLong,
      state = n.get("state").asText,
      point = numbers("point"),
      values = Option(n.get("values")).getOrElse(JsonCodec.factory.nullNode()),
      value = opt("value").map(_.doubleValue),
      metrics = numbers("metrics"),
      error = opt("error").map(_.asText),
      attrs = Option(n.get("attrs")).getOrElse(JsonCodec.factory.nullNode()),
      startedMs = n.get("started_ms").asLong,
      finishedMs = opt("finished_ms").map(_.asLong))
  }
}

/**
 * What became of a trial, to tell the study: [[Outcome.ok]] with the objective's value,
 * [[Outcome.fail]] with why, or [[Outcome.cancelled]]; metrics (finite numbers) and the caller's own
 * JSON attributes may go with any of them.
 */
final case class Outcome(
    state: String,
    value: Option[Double] = None,
    metrics: Map[String, Double] = Map.empty,
    error: Option[String] = None,
    attrs: Option[JsonNode] = None) {

  def withMetric(name: String, x: Double): Outcome = copy(metrics = metrics + (name -> x))

  def withMetrics(more: Map[String, Double]): Outcome = copy(metrics = metrics ++ more)

  def withAttrs(json: JsonNode): Outcome = copy(attrs = Option(json))

  /**
   * The outcome JSON for trial `trialId`. JSON cannot carry NaN or infinity, so they are refused here
   * with the core's words: an ok value must be finite (tell it as fail), metrics must be finite; a
   * fail's non-finite value is dropped.
   */
  private[sparktune] def toJson(trialId: Long): String = {
    val o = JsonCodec.obj().put("state", state)
    value.foreach { v =>
      if (!v.isNaN && !v.isInfinite) o.put("value", v)
      else if (state == Trial.Ok) throw new IllegalArgumentException(s"trial $trialId: value $v is not finite, tell it as fail")
    }
    if (metrics.nonEmpty) {
      val m = o.putObject("metrics")
      metrics.foreach { case (name, v) =>
        if (v.isNaN || v.isInfinite) {
          throw new IllegalArgumentException(s"trial $trialId: metric '$name' is $v, not finite (JSON cannot carry it)")
        }
        m.put(name, v)
      }
    }
    error.foreach(o.put("error", _))
    attrs.foreach(a => o.set[ObjectNode]("attrs", a))
    JsonCodec.write(o)
  }
}

object Outcome {

  /** A finished trial with its objective's value. */
  def ok(value: Double, metrics: Map[String, Double] = Map.empty): Outcome =
    Outcome(Trial.Ok, value = Some(value), metrics = metrics)

  /** A failed trial, with why. */
  def fail(error: String, metrics: Map[String, Double] = Map.empty): Outcome =
    Outcome(Trial.Fail, metrics = metrics, error = Option(error))

  /** A cancelled trial. */
  def cancelled: Outcome = Outcome(Trial.Cancelled)

  /** A cancelled trial, with why. */
  def cancelled(reason: String, metrics: Map[String, Double]): Outcome =
    Outcome(Trial.Cancelled, metrics = metrics, error = Option(reason))

  /** A cancelled trial, with why. */
  def cancelled(reason: String): Outcome = cancelled(reason, Map.empty)

  /** A trial stopped early by a pruner, with why and the metrics it reached. */
  def pruned(reason: String, metrics: Map[String, Double] = Map.empty): Outcome =
    Outcome(Trial.Pruned, metrics = metrics, error = Option(reason))
}
