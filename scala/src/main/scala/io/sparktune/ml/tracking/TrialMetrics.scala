package io.sparktune.ml.tracking

/** A trial's metrics as its child run logs them, per kind of validation. */
object TrialMetrics {

  /**
   * Cross validation: `avg_<metric>` and `std_<metric>` as autologging names PySpark's avgMetrics and
   * stdMetrics (when the trial has an average), and `fold_<metric>` with the fold index as step
   * (mlflow #1962: per-fold metrics), for every fold that gave one.
   */
  def crossValidation(metric: String)(folds: Array[Double], average: Option[Double]): Seq[MetricPoint] = {
    val perFold = folds.toSeq.zipWithIndex.collect {
      case (m, i) if !m.isNaN && !m.isInfinite => MetricPoint(s"fold_$metric", m, i.toLong)
    }
    val summary = average.toSeq.flatMap { avg =>
      // Population std, as PySpark's stdMetrics (numpy's std).
      val std = math.sqrt(folds.map(x => (x - avg) * (x - avg)).sum / folds.length)
      Seq(MetricPoint(s"avg_$metric", avg), MetricPoint(s"std_$metric", std))
    }
    summary ++ perFold
  }

  /** Train-validation split: the metric on the validation set, named as autologging names it. */
  def trainValidation(metric: String)(folds: Array[Double], value: Option[Double]): Seq[MetricPoint] =
    value.toSeq.map(MetricPoint(metric, _))
}
