package io.sparktune.ml

/**
 * sparktune's drop-ins for `org.apache.spark.ml.tuning`: [[tuning.CrossValidator]],
 * [[tuning.TrainValidationSplit]] and their models, and Spark's own ParamGridBuilder under the same
 * name, so that changing the import is all a Spark user does.
 */
package object tuning {

  /** Spark's ParamGridBuilder (`new ParamGridBuilder().addGrid(...).build()`), re-exported. */
  type ParamGridBuilder = org.apache.spark.ml.tuning.ParamGridBuilder
}
