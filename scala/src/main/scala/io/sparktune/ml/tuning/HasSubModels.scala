package io.sparktune.ml.tuning

/**
 * A validator model's `subModels`, as Spark's: set only when the validator had collectSubModels,
 * else reading them is an error that says how to get them. `T` is the models' shape
 * (`Array[Array[Model[_]]]` folds x entries for cross validation, `Array[Model[_]]` for a split).
 */
trait HasSubModels[T] {
  private var _subModels: Option[T] = None

  private[tuning] def setSubModels(subModels: T): this.type = {
    _subModels = Option(subModels)
    this
  }

  /** The model of every (fold, entry) pair, null for a trial this fit did not train (failed, pruned, resumed). */
  def subModels: T = {
    require(_subModels.isDefined, "subModels not available, To retrieve subModels, make sure to set " +
      "collectSubModels to true before fitting.")
    _subModels.get
  }

  /** Whether `subModels` is available. */
  def hasSubModels: Boolean = _subModels.isDefined
}
