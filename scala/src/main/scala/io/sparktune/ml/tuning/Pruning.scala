package io.sparktune.ml.tuning

import io.sparktune.JsonCodec
import io.sparktune.jni.Native

/**
 * A pruner of the core (median stopping, truncation selection, bandit), asked after each fold of a
 * configuration: its mean over its first `step` folds against the other configurations' means over
 * the same folds. The rule is the core's; this only carries the numbers there and back.
 */
private[tuning] final class Pruning private (native: Native, configJson: String, direction: String) {

  /** Why the trial is stopped at `step` (its mean `value`), None when it goes on. */
  def decide(step: Int, value: Double, others: Iterable[Double]): Option[String] = {
    val report = JsonCodec.obj().put("direction", direction).put("step", step).put("value", value)
    val array = report.putArray("others")
    others.foreach(v => if (!v.isNaN && !v.isInfinite) array.add(v))
    if (value.isNaN || value.isInfinite) None
    else {
      val answer = JsonCodec.parse(native.shouldPrune(configJson, JsonCodec.write(report)), "pruner decision")
      if (answer.get("prune").asBoolean) Some(answer.get("reason").asText) else None
    }
  }
}

private[tuning] object Pruning {

  /**
   * The pruner of a `pruning` param value, None for none; a bad config is an
   * IllegalArgumentException naming the setting (checked by the core on an empty report).
   */
  def apply(pruning: String, larger: Boolean): Option[Pruning] =
    ValidatorParams.prunerConfig(pruning).map { config =>
      val p = new Pruning(new Native(), config, if (larger) "maximize" else "minimize")
      try p.decide(1, 0.0, Nil)
      catch {
        case e: IllegalArgumentException =>
          throw new IllegalArgumentException(s"pruning '$pruning': ${e.getMessage}", e)
      }
      p
    }
}
