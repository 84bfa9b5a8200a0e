package io.sparktune.ml.tracking

import com.fasterxml.jackson.databind.node.ObjectNode

import io.sparktune.JsonCodec

/**
 * The parent run's artifacts, named as autologging names its own: `search_results.csv` (one row per
 * trial) and `best_parameters.json`; sparktune adds `search_space.json` (the grid or the space).
 */
object SearchArtifacts {

  /**
   * One row per trial: trial_id, state, params (the tuned params as JSON, as autologging writes
   * them), `param.<name>` per tuned param, one column per metric of step 0 (avg_, std_...), the
   * per-fold metrics as `<key>_<step>`, and error.
   */
  def resultsCsv(trials: Seq[TrialRecord]): Artifact = {
    val paramKeys = trials.flatMap(_.tunedParams.map(_._1)).distinct
    val metricKeys = trials.flatMap(_.metrics.map(column)).distinct
    val header = Seq("trial_id", "state", "params") ++ paramKeys.map("param." + _) ++ metricKeys :+ "error"
    val rows = trials.sortBy(_.id).map { t =>
      val params = t.tunedParams.toMap
      val metrics = t.metrics.map(m => column(m) -> m.value).toMap
      Seq(t.id.toString, t.state, stringsJson(t.tunedParams)) ++
        paramKeys.map(params.getOrElse(_, "")) ++
        metricKeys.map(k => metrics.get(k).map(_.toString).getOrElse("")) :+
        t.error.getOrElse("")
    }
    Artifact("search_results.csv", (header +: rows).map(_.map(cell).mkString(",")).mkString("", "\n", "\n"))
  }

  def bestParameters(params: Seq[(String, String)]): Artifact = Artifact("best_parameters.json", stringsJson(params))

  def searchSpace(json: String): Artifact = Artifact("search_space.json", json)

  private def column(m: MetricPoint): String = if (m.key.startsWith("fold_")) s"${m.key}_${m.step}" else m.key

  private def stringsJson(kvs: Seq[(String, String)]): String = {
    val o: ObjectNode = JsonCodec.obj()
    kvs.foreach { case (k, v) => o.put(k, v) }
    JsonCodec.write(o)
  }

  /** RFC 4180: quoted when it holds a comma, a quote or a line break. */
  private def cell(s: String): String =
    if (s.exists(c => c == ',' || c == '"' || c == '\n' || c == '\r')) "\"" + s.replace("\"", "\"\"") + "\"" else s
}
