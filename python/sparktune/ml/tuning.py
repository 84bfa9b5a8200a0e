"""A drop-in for `pyspark.ml.tuning.CrossValidator`, run by sparktune's Scala tuner.

    from sparktune.ml.tuning import CrossValidator, ParamGridBuilder
    from sparktune.space import hp

    # Grid search: the same params as pyspark's, the same avgMetrics.
    cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator, numFolds=3)

    # Random search: Spark params bound to search-space expressions, sampled by sparktune's core.
    cv = CrossValidator(estimator=pipeline, evaluator=evaluator, maxTrials=12,
                        searchSpace={lr.regParam: hp.loguniform("regParam", -9.0, 0.0),
                                     lr.elasticNetParam: hp.uniform("elasticNet", 0.0, 1.0)},
                        trialStore="output/study.journal")
    model = cv.fit(df)
    model.bestModel, model.avgMetrics, model.bestParams, model.trials

`fit` hands the estimator, evaluator and param maps to the Scala `io.sparktune.ml.tuning.CrossValidator`
through py4j, converted by PySpark's own code (`_ValidatorParams._to_java_impl`), with the folds drawn
as PySpark draws them, so avgMetrics equal `pyspark.ml.tuning.CrossValidator`'s on the same grid,
folds and seed. Every (trial, fold) pair runs as a task of its own on `parallelism` threads.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.evaluation import Evaluator, JavaEvaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasParallelism
from pyspark.ml.tuning import CrossValidator as _PySparkCrossValidator
from pyspark.ml.tuning import ParamGridBuilder, _CrossValidatorParams, _ValidatorSharedReadWrite
from pyspark.ml.util import MetaAlgorithmReadWrite
from pyspark.ml.wrapper import JavaEstimator, JavaParams
from pyspark.sql import DataFrame

from sparktune._jvm import java_class
from sparktune.errors import translated
from sparktune.ml._persistence import JavaTunedModelReadWrite, JavaTunerReadWrite
from sparktune.space import Expr, _node

__all__ = ["CrossValidator", "CrossValidatorModel", "ParamGridBuilder"]

_SCALA_CROSS_VALIDATOR = "io.sparktune.ml.tuning.CrossValidator"
_SCALA_PARAM_SPACE = "io.sparktune.ml.tuning.ParamSpace"


class _SparktuneCrossValidatorParams(_CrossValidatorParams, HasParallelism):
    """pyspark's CrossValidator params (estimator, estimatorParamMaps, evaluator, numFolds, foldCol,
    seed, parallelism; same names, docs and defaults) and sparktune's random-search params."""

    searchSpace: "Param[Dict[Param, Any]]" = Param(
        Params._dummy(),
        "searchSpace",
        "random search: a dict {Param of a stage of the estimator: sparktune.space.hp expression "
        "(or a constant)}; the core samples maxTrials configurations from it. "
        "Set this or estimatorParamMaps, not both.",
    )
    maxTrials: "Param[int]" = Param(
        Params._dummy(),
        "maxTrials",
        "the number of trials of a random search, counting the finished trials of a resumed "
        "trial store (>= 1)",
        typeConverter=TypeConverters.toInt,
    )
    trialStore: "Param[str]" = Param(
        Params._dummy(),
        "trialStore",
        "path of the trial journal: every trial is recorded there and a later fit with the same "
        "path resumes from it (empty: in memory only)",
        typeConverter=TypeConverters.toString,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        # The Scala tuner's defaults.
        self._setDefault(maxTrials=10, trialStore="")

    def getSearchSpace(self) -> Dict[Param, Any]:
        """Gets the value of searchSpace."""
        return self.getOrDefault(self.searchSpace)

    def getMaxTrials(self) -> int:
        """Gets the value of maxTrials or its default value."""
        return self.getOrDefault(self.maxTrials)

    def getTrialStore(self) -> str:
        """Gets the value of trialStore or its default value."""
        return self.getOrDefault(self.trialStore)


class CrossValidator(Estimator["CrossValidatorModel"], _SparktuneCrossValidatorParams, JavaTunerReadWrite):
    """K-fold cross validation with pyspark.ml.tuning.CrossValidator's params and results, run by
    sparktune: a grid search over `estimatorParamMaps`, or a random search of `maxTrials` trials
    over `searchSpace`, optionally journaled to (and resumed from) `trialStore`.

    Needs a SparkSession built with `sparktune.configure(builder)` (the jar on the JVM)."""

    _input_kwargs: Dict[str, Any]
    _java_class = _SCALA_CROSS_VALIDATOR  # save / load (ml/_persistence.py)

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Optional[Estimator] = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Optional[Evaluator] = None,
        numFolds: int = 3,
        seed: Optional[int] = None,
        parallelism: int = 1,
        foldCol: str = "",
        searchSpace: Optional[Dict[Param, Any]] = None,
        maxTrials: int = 10,
        trialStore: str = "",
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        estimator: Optional[Estimator] = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Optional[Evaluator] = None,
        numFolds: int = 3,
        seed: Optional[int] = None,
        parallelism: int = 1,
        foldCol: str = "",
        searchSpace: Optional[Dict[Param, Any]] = None,
        maxTrials: int = 10,
        trialStore: str = "",
    ) -> "CrossValidator":
        """Sets params for the cross validator."""
        return self._set(**self._input_kwargs)

    def setEstimator(self, value: Estimator) -> "CrossValidator":
        """Sets the value of :py:attr:`estimator`."""
        return self._set(estimator=value)

    def setEstimatorParamMaps(self, value: List[Dict[Param, Any]]) -> "CrossValidator":
        """Sets the value of :py:attr:`estimatorParamMaps` (a grid search)."""
        return self._set(estimatorParamMaps=value)

    def setEvaluator(self, value: Evaluator) -> "CrossValidator":
        """Sets the value of :py:attr:`evaluator`."""
        return self._set(evaluator=value)

    def setNumFolds(self, value: int) -> "CrossValidator":
        """Sets the value of :py:attr:`numFolds`."""
        return self._set(numFolds=value)

    def setFoldCol(self, value: str) -> "CrossValidator":
        """Sets the value of :py:attr:`foldCol`."""
        return self._set(foldCol=value)

    def setSeed(self, value: int) -> "CrossValidator":
        """Sets the value of :py:attr:`seed`."""
        return self._set(seed=value)

    def setParallelism(self, value: int) -> "CrossValidator":
        """Sets the value of :py:attr:`parallelism`."""
        return self._set(parallelism=value)

    def setSearchSpace(self, value: Dict[Param, Any]) -> "CrossValidator":
        """Sets the value of :py:attr:`searchSpace` (a random search)."""
        return self._set(searchSpace=value)

    def setMaxTrials(self, value: int) -> "CrossValidator":
        """Sets the value of :py:attr:`maxTrials`."""
        return self._set(maxTrials=value)

    def setTrialStore(self, value: str) -> "CrossValidator":
        """Sets the value of :py:attr:`trialStore`."""
        return self._set(trialStore=value)

    def copy(self, extra: Optional[Dict[Param, Any]] = None) -> "CrossValidator":
        """A copy with a new uid, the estimator and evaluator copied too (as pyspark's)."""
        extra = extra or {}
        copied = Params.copy(self, extra)
        if self.isSet(self.estimator):
            copied.setEstimator(self.getEstimator().copy(extra))
        if self.isSet(self.evaluator):
            copied.setEvaluator(self.getEvaluator().copy(extra))
        return copied

    def _grid(self) -> Optional[List[Dict[Param, Any]]]:
        return self.getEstimatorParamMaps() if self.isSet(self.estimatorParamMaps) else None

    def _bindings_json(self) -> str:
        """The search space as the Scala ParamSpace.fromJson reads it:
        [{"stage": uid, "param": name, "space": NODE}, ...]."""
        space = self.getSearchSpace()
        items = space.items() if isinstance(space, dict) else space
        bindings = []
        for param, expr in items:
            if not isinstance(param, Param):
                raise TypeError(
                    f"searchSpace keys are Params of the estimator's stages (e.g. lr.regParam), "
                    f"not {param!r}"
                )
            label = expr.label if isinstance(expr, Expr) else param.name
            bindings.append({
                "stage": param.parent,
                "param": param.name,
                "space": _node(expr, f"/root/dict/{label}", None),
            })
        return json.dumps(bindings, allow_nan=False)

    def _to_java_tuner(self, spark):
        """The Scala CrossValidator with this one's params; the estimator, evaluator and param maps
        converted to Java by PySpark's own code."""
        estimator, evaluator, grid = self.getEstimator(), self.getEvaluator(), self._grid()
        if not isinstance(evaluator, JavaEvaluator):
            raise TypeError(
                f"sparktune's CrossValidator runs on the JVM: the evaluator must be a JVM-backed "
                f"pyspark.ml.evaluation evaluator, not {type(evaluator).__name__}"
            )
        converter = _PySparkCrossValidator(
            estimator=estimator, evaluator=evaluator, estimatorParamMaps=grid if grid is not None else []
        )
        java_estimator, java_grid, java_evaluator = converter._to_java_impl()

        java_cv = java_class(_SCALA_CROSS_VALIDATOR, spark)(self.uid)
        java_cv.setEstimator(java_estimator)
        java_cv.setEvaluator(java_evaluator)
        java_cv.setNumFolds(self.getNumFolds())
        java_cv.setFoldCol(self.getFoldCol())
        java_cv.setSeed(self.getSeed())
        java_cv.setParallelism(self.getParallelism())
        # Folds drawn as pyspark.ml.tuning draws them (rand(seed) ranges), so that avgMetrics equal
        # those PySpark users get on the same seed.
        java_cv.setFoldSplit("pyspark")
        if grid is not None:
            java_cv.setEstimatorParamMaps(java_grid)
        if self.isSet(self.searchSpace) and self.getSearchSpace() is not None:
            param_space = java_class(_SCALA_PARAM_SPACE, spark)
            java_cv.setSearchSpace(param_space.fromJson(self._bindings_json()))
        java_cv.setMaxTrials(self.getMaxTrials())
        store = self.getTrialStore()
        if store:
            # Absolute: the JVM's working directory is the one Python had when it started it.
            java_cv.setTrialStore(os.path.abspath(store))
        return java_cv

    def _fit(self, dataset: DataFrame) -> "CrossValidatorModel":
        if not hasattr(dataset, "_jdf"):
            raise TypeError(
                "sparktune's CrossValidator needs a classic (py4j) SparkSession; Spark Connect "
                "DataFrames are not supported yet"
            )
        with translated():
            java_cv = self._to_java_tuner(dataset.sparkSession)
            java_model = java_cv.fit(dataset._jdf)
        return self._copyValues(CrossValidatorModel._from_scala(java_model, self))


def _floats(java_array) -> List[float]:
    return [float(x) for x in java_array]


class CrossValidatorModel(Model, _SparktuneCrossValidatorParams, JavaTunedModelReadWrite):
    """The result of :py:meth:`CrossValidator.fit`: the best configuration refitted on the whole
    data set, transforming with it, and every trial's metrics.

    Attributes
    ----------
    bestModel : the best configuration's model (the Python wrapper of the JVM model, e.g. a
        pyspark.ml.PipelineModel)
    avgMetrics : the average metric over the folds, one per param map in grid mode (in their order,
        as pyspark's), one per finished trial in random mode (in trial id order); NaN for a trial
        that failed
    stdMetrics : the population standard deviation over the folds (as pyspark's)
    foldMetrics : foldMetrics[i][k], entry i's metric on fold k
    bestIndex : the index of the best entry of avgMetrics (the first best)
    bestParams : the best entry's param map {Param: value}
    trialIds : the core's trial id of each entry of avgMetrics (-1 for a grid map without one)
    trials : every trial of the study as a dict (id, state, point, values, value, metrics, error,
        started_ms, finished_ms), those of a resumed store included
    """

    # save / load (ml/_persistence.py)
    _java_class = "io.sparktune.ml.tuning.CrossValidatorModel"
    _java_read_write = "io.sparktune.ml.tuning.persistence.CrossValidatorReadWrite"
    _result_fields = ("avgMetrics", "stdMetrics", "foldMetrics", "bestIndex", "trialIds", "trials")
    _tuner = CrossValidator

    def __init__(
        self,
        bestModel: Model,
        avgMetrics: Optional[List[float]] = None,
        stdMetrics: Optional[List[float]] = None,
        foldMetrics: Optional[List[List[float]]] = None,
        bestIndex: int = 0,
        bestParams: Optional[Dict[Param, Any]] = None,
        trialIds: Optional[List[int]] = None,
        trials: Optional[List[Dict[str, Any]]] = None,
    ):
        super().__init__()
        self.bestModel = bestModel
        self.avgMetrics = avgMetrics or []
        self.stdMetrics = stdMetrics or []
        self.foldMetrics = foldMetrics or []
        self.bestIndex = bestIndex
        self.bestParams = bestParams or {}
        self.trialIds = trialIds or []
        self.trials = trials or []
        # pyspark's CrossValidatorModel has it (None unless collectSubModels); sparktune keeps none.
        self.subModels = None

    @property
    def bestMetric(self) -> float:
        """The best average metric."""
        return self.avgMetrics[self.bestIndex]

    @classmethod
    def _from_scala(cls, java_model, cv: CrossValidator) -> "CrossValidatorModel":
        best_index = int(java_model.bestIndex())
        grid = cv._grid()
        if grid is not None:
            best_params = dict(grid[best_index])
        else:
            best_params = _param_map_from_java(cv.getEstimator(), java_model.bestParams())
        return cls(
            bestModel=JavaParams._from_java(java_model.bestModel()),
            avgMetrics=_floats(java_model.avgMetrics()),
            stdMetrics=_floats(java_model.stdMetrics()),
            foldMetrics=[_floats(folds) for folds in java_model.foldMetrics()],
            bestIndex=best_index,
            bestParams=best_params,
            trialIds=[int(i) for i in java_model.trialIds()],
            trials=json.loads(java_model.trialsJson()),
        )

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return self.bestModel.transform(dataset)

    def copy(self, extra: Optional[Dict[Param, Any]] = None) -> "CrossValidatorModel":
        """A copy with the bestModel copied and the extra params set."""
        extra = extra or {}
        copied = CrossValidatorModel(
            self.bestModel.copy(extra),
            list(self.avgMetrics),
            list(self.stdMetrics),
            [list(f) for f in self.foldMetrics],
            self.bestIndex,
            dict(self.bestParams),
            list(self.trialIds),
            [dict(t) for t in self.trials],
        )
        return self._copyValues(copied, extra=extra)


def _param_map_from_java(estimator: Estimator, java_param_map) -> Dict[Param, Any]:
    """A Java ParamMap as {Python Param: value}, by PySpark's own conversion."""
    if isinstance(estimator, JavaEstimator):
        return estimator._transfer_param_map_from_java(java_param_map)
    if MetaAlgorithmReadWrite.isMetaEstimator(estimator):
        return _ValidatorSharedReadWrite.meta_estimator_transfer_param_maps_from_java(
            estimator, [java_param_map]
        )[0]
    raise ValueError(f"Unsupported estimator used in tuning: {estimator}")
