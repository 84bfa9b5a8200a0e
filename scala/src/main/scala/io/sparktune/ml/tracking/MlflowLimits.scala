package io.sparktune.ml.tracking

/**
 * MLflow's limits on what one request may carry, and the cutting that keeps a run's data inside
 * them: a server refuses a whole log-batch for one key or value too long (mlflow #10512), so keys
 * and values are truncated, and long lists are split into several batches.
 */
object MlflowLimits {
  val MaxParamsPerBatch = 100
  val MaxTagsPerBatch = 100
  val MaxMetricsPerBatch = 1000
  /** Params, tags and metrics together. */
  val MaxItemsPerBatch = 1000
  val MaxKeyLength = 250
  /** Servers since MLflow 2.x take 6,000; older ones refuse more than 500 (then the batch is sent again, cut to that). */
  val MaxParamValueLength = 6000
  val OldMaxParamValueLength = 500
  val MaxTagValueLength = 5000

  /** `s` cut to `max` characters (marked with "..." so that a reader sees it was cut). */
  def truncate(s: String, max: Int): String =
    if (s.length <= max) s else s.take(max - 3) + "..."

  /** Params with keys and values within the limits; the first of two keys that truncation made equal wins. */
  def params(ps: Seq[(String, String)], maxValue: Int = MaxParamValueLength): Seq[(String, String)] =
    distinctKeys(ps.map { case (k, v) => truncate(k, MaxKeyLength) -> truncate(v, maxValue) })

  def tags(ts: Seq[(String, String)]): Seq[(String, String)] =
    distinctKeys(ts.map { case (k, v) => truncate(k, MaxKeyLength) -> truncate(v, MaxTagValueLength) })

  /** Metrics with keys within the limit; non-finite values dropped (JSON has no NaN). */
  def metrics(ms: Seq[MetricPoint]): Seq[MetricPoint] =
    ms.filter(m => !m.value.isNaN && !m.value.isInfinite).map(m => m.copy(key = truncate(m.key, MaxKeyLength)))

  /**
   * One log-batch's content: params, metrics and tags, each within its count limit, the sum within
   * the items limit.
   */
  final case class Batch(params: Seq[(String, String)], metrics: Seq[MetricPoint], tags: Seq[(String, String)])

  /** The batches that carry everything, in order: as few as the limits allow. */
  def batches(params: Seq[(String, String)], metrics: Seq[MetricPoint], tags: Seq[(String, String)]): Seq[Batch] = {
    val ps = params.grouped(MaxParamsPerBatch).toVector
    val ts = tags.grouped(MaxTagsPerBatch).toVector
    // Metrics fill what params and tags leave of each batch's items.
    val out = Vector.newBuilder[Batch]
    var rest = metrics
    val n = math.max(ps.size, ts.size)
    for (i <- 0 until n) {
      val p = ps.lift(i).getOrElse(Nil)
      val t = ts.lift(i).getOrElse(Nil)
      val room = math.min(MaxMetricsPerBatch, MaxItemsPerBatch - p.size - t.size)
      out += Batch(p, rest.take(room), t)
      rest = rest.drop(room)
    }
    rest.grouped(MaxMetricsPerBatch).foreach(m => out += Batch(Nil, m, Nil))
    out.result()
  }

  private def distinctKeys(kvs: Seq[(String, String)]): Seq[(String, String)] = {
    val seen = scala.collection.mutable.HashSet.empty[String]
    kvs.filter { case (k, _) => seen.add(k) }
  }
}
