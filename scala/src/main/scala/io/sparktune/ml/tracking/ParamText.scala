package io.sparktune.ml.tracking

import java.math.BigDecimal

/**
 * A Spark param's value as text the way MLflow's pyspark.ml autologging logs it (Python's `str`:
 * 0.0001 and 1e-05, True, ['a', 'b']), so that runs logged by sparktune compare with autologged
 * ones in one MLflow experiment.
 */
object ParamText {

  def show(value: Any): String = value match {
    case null => "None"
    case b: Boolean => if (b) "True" else "False"
    case d: Double => double(d, java.lang.Double.toString(d))
    case f: Float => double(f.toDouble, java.lang.Float.toString(f))
    case s: String => s
    case a: Array[_] => a.map(element).mkString("[", ", ", "]")
    case other => String.valueOf(other)
  }

  private def element(value: Any): String = value match {
    case s: String => "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    case other => show(other)
  }

  /** Python's repr of a float: fixed notation for exponents in [-4, 16), else d.ddde-05. */
  private def double(d: Double, shortest: String): String =
    if (d.isNaN) "nan"
    else if (d.isInfinite) (if (d > 0) "inf" else "-inf")
    else if (d == 0.0) (if (1.0 / d < 0) "-0.0" else "0.0")
    else {
      val bd = new BigDecimal(shortest).stripTrailingZeros
      val digits = bd.unscaledValue.abs.toString
      val exponent = digits.length - 1 - bd.scale
      val sign = if (d < 0) "-" else ""
      if (exponent >= -4 && exponent < 16) {
        val plain = bd.abs.toPlainString
        sign + (if (plain.contains('.')) plain else plain + ".0")
      } else {
        val mantissa = if (digits.length == 1) digits else s"${digits.head}.${digits.tail}"
        f"$sign${mantissa}e${if (exponent < 0) "-" else "+"}${math.abs(exponent)}%02d"
      }
    }
}
