"""Drop-ins for `pyspark.ml.tuning` (CrossValidator, TrainValidationSplit, ParamGridBuilder), run by
sparktune's Scala tuner: change the import, keep the code.

    from sparktune.ml.tuning import CrossValidator, ParamGridBuilder, TrainValidationSplit
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

    # Beyond grids: TPE, a time budget, fold-level pruning (median stopping by the core).
    cv = CrossValidator(estimator=pipeline, evaluator=evaluator, searchSpace=space, sampler="tpe",
                        maxTrials=30, timeout=600, pruning="median")

    # Model selection: the pipeline's `lr` stage is replaced by the chosen classifier, each option
    # with its own params (a conditional space: an option's params are drawn only when chosen).
    pipeline = Pipeline(stages=[assembler, lr])
    space = {lr: hp.choice("classifier", [
        (lr, {lr.regParam: hp.loguniform("lr.regParam", math.log(1e-4), 0.0)}),
        (rf, {rf.maxDepth: hp.randint("rf.maxDepth", 2, 8)}),
        gbt])}

`fit` hands the estimator, evaluator and param maps to the Scala `io.sparktune.ml.tuning.CrossValidator`
through py4j, converted by PySpark's own code (`_ValidatorParams._to_java_impl`), with the folds drawn
as PySpark draws them, so avgMetrics equal `pyspark.ml.tuning.CrossValidator`'s on the same grid,
folds and seed. Every (trial, fold) pair runs as a task of its own on `parallelism` threads; the
pipeline's leading stages that no trial changes (the feature stages before the tuned model) are
fitted once per fold, not once per trial and fold. Each fold is coalesced to the cores one trial
has (`foldPartitions`, 0 by default: `defaultParallelism / parallelism`, and at most
spark.sql.files.maxPartitionBytes of data each), so small data does not pay a task per partition
per iteration of every fit.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Optional

from pyspark import keyword_only
from pyspark.ml import Estimator, Model, Pipeline, Transformer
from pyspark.ml.evaluation import Evaluator, JavaEvaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasCollectSubModels, HasParallelism
from pyspark.ml.tuning import CrossValidator as _PySparkCrossValidator
from pyspark.ml.tuning import (
    ParamGridBuilder,
    _CrossValidatorParams,
    _TrainValidationSplitParams,
    _ValidatorSharedReadWrite,
)
from pyspark.ml.util import MetaAlgorithmReadWrite
from pyspark.ml.wrapper import JavaEstimator, JavaParams
from pyspark.sql import DataFrame

from sparktune._jvm import java_class
from sparktune.errors import translated
from sparktune.ml._mlflow import _MlflowParams
from sparktune.ml._persistence import JavaTunedModelReadWrite, JavaTunerReadWrite
from sparktune.space import Expr, _node

__all__ = [
    "CrossValidator",
    "CrossValidatorModel",
    "ParamGridBuilder",
    "TrainValidationSplit",
    "TrainValidationSplitModel",
]

_SCALA_CROSS_VALIDATOR = "io.sparktune.ml.tuning.CrossValidator"
_SCALA_TRAIN_VALIDATION_SPLIT = "io.sparktune.ml.tuning.TrainValidationSplit"
_SCALA_PARAM_SPACE = "io.sparktune.ml.tuning.ParamSpace"
# What a Pipeline stage is in PySpark (it has no PipelineStage class).
_STAGE = (Estimator, Transformer)


class _SparktuneParams(HasParallelism, HasCollectSubModels, _MlflowParams):
    """sparktune's search params, shared by CrossValidator and TrainValidationSplit (the Scala
    ValidatorParams): searchSpace, sampler, maxTrials, timeout, pruning, trialStore, foldPartitions,
    and the MLflow params (mlflowLogging, mlflowTrackingUri, mlflowExperimentName)."""

    searchSpace: "Param[Dict[Param, Any]]" = Param(
        Params._dummy(),
        "searchSpace",
        "a dict {Param of a stage of the estimator: sparktune.space.hp expression (or a constant)}; "
        "the core samples maxTrials configurations from it with `sampler`. "
        "Set this or estimatorParamMaps, not both.",
    )
    sampler: "Param[str]" = Param(
        Params._dummy(),
        "sampler",
        "how the core samples searchSpace: random, tpe, qmc or grid, or a sampler config as JSON "
        '(\'{"kind": "tpe", "n_startup_trials": 5}\')',
        typeConverter=TypeConverters.toString,
    )
    maxTrials: "Param[int]" = Param(
        Params._dummy(),
        "maxTrials",
        "the number of trials of a search over searchSpace, counting the finished trials of a "
        "resumed trial store (>= 1)",
        typeConverter=TypeConverters.toInt,
    )
    timeout: "Param[float]" = Param(
        Params._dummy(),
        "timeout",
        "seconds after which running trials are cancelled and the best finished one is used "
        "(0: no limit)",
        typeConverter=TypeConverters.toFloat,
    )
    pruning: "Param[str]" = Param(
        Params._dummy(),
        "pruning",
        "fold-level early stopping decided by the core: '' (none), median, truncation, bandit, "
        "or a pruner config as JSON; a stopped configuration is recorded 'pruned'",
        typeConverter=TypeConverters.toString,
    )
    trialStore: "Param[str]" = Param(
        Params._dummy(),
        "trialStore",
        "path of the trial journal: every trial is recorded there and a later fit with the same "
        "path resumes from it (empty: in memory only)",
        typeConverter=TypeConverters.toString,
    )

    foldPartitions: "Param[int]" = Param(
        Params._dummy(),
        "foldPartitions",
        "partitions each fold is coalesced to before it is cached (0: the cores per concurrent "
        "trial, at most spark.sql.files.maxPartitionBytes of data each; never more than the data has)",
        typeConverter=TypeConverters.toInt,
    )

    def __init__(self, *args: Any):
        super().__init__(*args)
        # The Scala tuner's defaults.
        self._setDefault(sampler="random", maxTrials=10, timeout=0.0, pruning="", trialStore="", foldPartitions=0)

    def getSearchSpace(self) -> Dict[Param, Any]:
        """Gets the value of searchSpace."""
        return self.getOrDefault(self.searchSpace)

    def getSampler(self) -> str:
        """Gets the value of sampler or its default value."""
        return self.getOrDefault(self.sampler)

    def getMaxTrials(self) -> int:
        """Gets the value of maxTrials or its default value."""
        return self.getOrDefault(self.maxTrials)

    def getTimeout(self) -> float:
        """Gets the value of timeout or its default value."""
        return self.getOrDefault(self.timeout)

    def getPruning(self) -> str:
        """Gets the value of pruning or its default value."""
        return self.getOrDefault(self.pruning)

    def getTrialStore(self) -> str:
        """Gets the value of trialStore or its default value."""
        return self.getOrDefault(self.trialStore)

    def getFoldPartitions(self) -> int:
        """Gets the value of foldPartitions or its default value."""
        return self.getOrDefault(self.foldPartitions)


class _SparktuneCrossValidatorParams(_CrossValidatorParams, _SparktuneParams):
    """pyspark's CrossValidator params (estimator, estimatorParamMaps, evaluator, numFolds, foldCol,
    seed, parallelism, collectSubModels; same names, docs and defaults) and sparktune's."""


class _SparktuneTrainValidationSplitParams(_TrainValidationSplitParams, _SparktuneParams):
    """pyspark's TrainValidationSplit params (estimator, estimatorParamMaps, evaluator, trainRatio,
    seed, parallelism, collectSubModels; same names, docs and defaults) and sparktune's."""


class _Validator:
    """What CrossValidator and TrainValidationSplit share: the setters of the shared params, and the
    hand-over of the whole configuration to the Scala validator."""

    _java_class: str

    def setEstimator(self, value: Estimator):
        """Sets the value of :py:attr:`estimator`."""
        return self._set(estimator=value)

    def setEstimatorParamMaps(self, value: List[Dict[Param, Any]]):
        """Sets the value of :py:attr:`estimatorParamMaps` (a grid search)."""
        return self._set(estimatorParamMaps=value)

    def setEvaluator(self, value: Evaluator):
        """Sets the value of :py:attr:`evaluator`."""
        return self._set(evaluator=value)

    def setSeed(self, value: int):
        """Sets the value of :py:attr:`seed`."""
        return self._set(seed=value)

    def setParallelism(self, value: int):
        """Sets the value of :py:attr:`parallelism`."""
        return self._set(parallelism=value)

    def setCollectSubModels(self, value: bool):
        """Sets the value of :py:attr:`collectSubModels`."""
        return self._set(collectSubModels=value)

    def setSearchSpace(self, value: Dict[Param, Any]):
        """Sets the value of :py:attr:`searchSpace` (a search the core samples)."""
        return self._set(searchSpace=value)

    def setSampler(self, value: str):
        """Sets the value of :py:attr:`sampler`."""
        return self._set(sampler=value)

    def setMaxTrials(self, value: int):
        """Sets the value of :py:attr:`maxTrials`."""
        return self._set(maxTrials=value)

    def setTimeout(self, value: float):
        """Sets the value of :py:attr:`timeout`."""
        return self._set(timeout=value)

    def setPruning(self, value: str):
        """Sets the value of :py:attr:`pruning`."""
        return self._set(pruning=value)

    def setTrialStore(self, value: str):
        """Sets the value of :py:attr:`trialStore`."""
        return self._set(trialStore=value)

    def setFoldPartitions(self, value: int):
        """Sets the value of :py:attr:`foldPartitions`."""
        return self._set(foldPartitions=value)

    def copy(self, extra: Optional[Dict[Param, Any]] = None):
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

    def _space_items(self):
        space = self.getSearchSpace()
        return list(space.items() if isinstance(space, dict) else space)

    def _bindings_json(self, items=None) -> str:
        """The Param bindings of the search space as the Scala ParamSpace.fromJson reads them:
        [{"stage": uid, "param": name, "space": NODE}, ...] (stage choices go apart)."""
        bindings = []
        for param, expr in self._space_items() if items is None else items:
            if isinstance(param, _STAGE):
                continue  # a stage choice, see _java_param_space
            if not isinstance(param, Param):
                raise TypeError(
                    f"searchSpace keys are Params of the estimator's stages (e.g. lr.regParam), or a "
                    f"stage of a Pipeline chosen with hp.choice, not {param!r}"
                )
            bindings.append({
                "stage": param.parent,
                "param": param.name,
                "space": _node(expr, f"/root/dict/{_label(param, expr)}", None),
            })
        return json.dumps(bindings, allow_nan=False)

    def _java_param_space(self, session):
        """The Scala ParamSpace: the Param bindings, then each stage choice
        {slot stage: hp.choice(label, [stage or (stage, {Param: expr}), ...])}."""
        param_space = java_class(_SCALA_PARAM_SPACE, session)
        java_space = param_space.fromJson(self._bindings_json())
        jvm = session.sparkContext._jvm
        for slot, expr in self._space_items():
            if not isinstance(slot, _STAGE):
                continue
            stages, spaces = jvm.java.util.ArrayList(), jvm.java.util.ArrayList()
            for stage, sub in _stage_options(slot, expr):
                stages.add(stage._to_java())
                spaces.add(self._bindings_json(list(sub.items())))
            java_space = java_space.addStageChoice(slot.uid, expr.label, stages, spaces)
        return java_space

    def _has_stage_choice(self) -> bool:
        return (self.isSet(self.searchSpace) and self.getSearchSpace() is not None
                and any(isinstance(k, _STAGE) for k, _ in self._space_items()))

    def _to_java_validator(self, session):
        """The Scala validator with this one's shared params; the estimator, evaluator and param
        maps converted to Java by PySpark's own code."""
        estimator, evaluator, grid = self.getEstimator(), self.getEvaluator(), self._grid()
        if not isinstance(evaluator, JavaEvaluator):
            raise TypeError(
                f"sparktune's {type(self).__name__} runs on the JVM: the evaluator must be a "
                f"JVM-backed pyspark.ml.evaluation evaluator, not {type(evaluator).__name__}"
            )
        converter = _PySparkCrossValidator(
            estimator=estimator, evaluator=evaluator, estimatorParamMaps=grid if grid is not None else []
        )
        java_estimator, java_grid, java_evaluator = converter._to_java_impl()

        java_v = java_class(self._java_class, session)(self.uid)
        java_v.setEstimator(java_estimator)
        java_v.setEvaluator(java_evaluator)
        java_v.setSeed(self.getSeed())
        java_v.setParallelism(self.getParallelism())
        java_v.setCollectSubModels(self.getCollectSubModels())
        if grid is not None:
            java_v.setEstimatorParamMaps(java_grid)
        if self.isSet(self.searchSpace) and self.getSearchSpace() is not None:
            java_v.setSearchSpace(self._java_param_space(session))
        if self.isSet(self.sampler):
            java_v.setSampler(self.getSampler())
        java_v.setMaxTrials(self.getMaxTrials())
        java_v.setTimeout(float(self.getTimeout()))
        if self.getPruning():
            java_v.setPruning(self.getPruning())
        store = self.getTrialStore()
        if store:
            # Absolute: the JVM's working directory is the one Python had when it started it.
            java_v.setTrialStore(os.path.abspath(store))
        java_v.setFoldPartitions(self.getFoldPartitions())
        return java_v

    def _to_java_tuner(self, session):
        """The Scala validator with all of this one's params (what fit runs, and save writes)."""
        java_v = self._to_java_validator(session)
        self._configure_java(java_v)
        return java_v

    def _fit_java(self, dataset: DataFrame):
        if not hasattr(dataset, "_jdf"):
            raise TypeError(
                f"sparktune's {type(self).__name__} needs a classic (py4j) SparkSession; Spark "
                "Connect DataFrames are not supported yet"
            )
        with translated():
            java_v = self._to_java_tuner(dataset.sparkSession)
            # At fit, not in _to_java_tuner: a saved tuner must not carry the active run of its save.
            self._set_java_mlflow_params(java_v)
            return java_v.fit(dataset._jdf)


class CrossValidator(
    Estimator["CrossValidatorModel"], _SparktuneCrossValidatorParams, _Validator, JavaTunerReadWrite
):
    """K-fold cross validation with pyspark.ml.tuning.CrossValidator's params and results, run by
    sparktune: a grid search over `estimatorParamMaps`, or a search of `maxTrials` trials over
    `searchSpace` sampled by the core's `sampler` (random, tpe, qmc), with an optional `timeout`,
    fold-level `pruning`, and a `trialStore` that journals (and resumes) the trials.

    Needs a SparkSession built with `sparktune.configure(builder)` (the jar on the JVM)."""

    _input_kwargs: Dict[str, Any]
    _java_class = _SCALA_CROSS_VALIDATOR

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
        collectSubModels: bool = False,
        foldCol: str = "",
        searchSpace: Optional[Dict[Param, Any]] = None,
        sampler: str = "random",
        maxTrials: int = 10,
        timeout: float = 0.0,
        pruning: str = "",
        trialStore: str = "",
        foldPartitions: int = 0,
        mlflowLogging: bool = True,
        mlflowTrackingUri: str = "",
        mlflowExperimentName: str = "",
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
        collectSubModels: bool = False,
        foldCol: str = "",
        searchSpace: Optional[Dict[Param, Any]] = None,
        sampler: str = "random",
        maxTrials: int = 10,
        timeout: float = 0.0,
        pruning: str = "",
        trialStore: str = "",
        foldPartitions: int = 0,
        mlflowLogging: bool = True,
        mlflowTrackingUri: str = "",
        mlflowExperimentName: str = "",
    ) -> "CrossValidator":
        """Sets params for the cross validator."""
        return self._set(**self._input_kwargs)

    def setNumFolds(self, value: int) -> "CrossValidator":
        """Sets the value of :py:attr:`numFolds`."""
        return self._set(numFolds=value)

    def setFoldCol(self, value: str) -> "CrossValidator":
        """Sets the value of :py:attr:`foldCol`."""
        return self._set(foldCol=value)

    def _configure_java(self, java_cv) -> None:
        java_cv.setNumFolds(self.getNumFolds())
        java_cv.setFoldCol(self.getFoldCol())
        # Folds drawn as pyspark.ml.tuning draws them (rand(seed) ranges), so that avgMetrics
        # equal those PySpark users get on the same seed.
        java_cv.setFoldSplit("pyspark")

    def _fit(self, dataset: DataFrame) -> "CrossValidatorModel":
        java_model = self._fit_java(dataset)
        return self._copyValues(CrossValidatorModel._from_scala(java_model, self))


class TrainValidationSplit(
    Estimator["TrainValidationSplitModel"], _SparktuneTrainValidationSplitParams, _Validator, JavaTunerReadWrite
):
    """Validation on one train-validation split with pyspark.ml.tuning.TrainValidationSplit's params
    and results (the same split for the same seed, so the same validationMetrics), run by sparktune
    with the same searches as its CrossValidator.

    Needs a SparkSession built with `sparktune.configure(builder)` (the jar on the JVM)."""

    _input_kwargs: Dict[str, Any]
    _java_class = _SCALA_TRAIN_VALIDATION_SPLIT

    @keyword_only
    def __init__(
        self,
        *,
        estimator: Optional[Estimator] = None,
        estimatorParamMaps: Optional[List[Dict[Param, Any]]] = None,
        evaluator: Optional[Evaluator] = None,
        trainRatio: float = 0.75,
        parallelism: int = 1,
        collectSubModels: bool = False,
        seed: Optional[int] = None,
        searchSpace: Optional[Dict[Param, Any]] = None,
        sampler: str = "random",
        maxTrials: int = 10,
        timeout: float = 0.0,
        trialStore: str = "",
        foldPartitions: int = 0,
        mlflowLogging: bool = True,
        mlflowTrackingUri: str = "",
        mlflowExperimentName: str = "",
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
        trainRatio: float = 0.75,
        parallelism: int = 1,
        collectSubModels: bool = False,
        seed: Optional[int] = None,
        searchSpace: Optional[Dict[Param, Any]] = None,
        sampler: str = "random",
        maxTrials: int = 10,
        timeout: float = 0.0,
        trialStore: str = "",
        foldPartitions: int = 0,
        mlflowLogging: bool = True,
        mlflowTrackingUri: str = "",
        mlflowExperimentName: str = "",
    ) -> "TrainValidationSplit":
        """Sets params for the train validation split."""
        return self._set(**self._input_kwargs)

    def setTrainRatio(self, value: float) -> "TrainValidationSplit":
        """Sets the value of :py:attr:`trainRatio`."""
        return self._set(trainRatio=value)

    def _configure_java(self, java_tvs) -> None:
        java_tvs.setTrainRatio(float(self.getTrainRatio()))
        # Split as pyspark.ml.tuning.TrainValidationSplit splits (rand(seed) >= trainRatio).
        java_tvs.setSplit("pyspark")

    def _fit(self, dataset: DataFrame) -> "TrainValidationSplitModel":
        java_model = self._fit_java(dataset)
        return self._copyValues(TrainValidationSplitModel._from_scala(java_model, self))


def _floats(java_array) -> List[float]:
    return [float(x) for x in java_array]


def _models(java_models) -> List[Optional[Model]]:
    """Python wrappers of Java models (None where the JVM has null: a trial this fit did not train)."""
    return [None if m is None else JavaParams._from_java(m) for m in java_models]


def _label(param: Param, expr: Any) -> str:
    return expr.label if isinstance(expr, Expr) else param.name


def _stage_options(slot: Any, expr: Any):
    """The options of a stage choice as (stage, {Param: expr}) pairs."""
    if not isinstance(expr, Expr) or expr.kind != "choice":
        raise TypeError(
            f"searchSpace key {slot.uid} is a stage: its value chooses the stage that replaces it, "
            f"hp.choice(label, [stage or (stage, {{Param: expr}}), ...]), not {expr!r}"
        )
    options = []
    for option in expr.options:
        stage, sub = option if isinstance(option, tuple) else (option, {})
        if not isinstance(stage, _STAGE) or not isinstance(sub, dict):
            raise TypeError(
                f"stage choice '{expr.label}': an option is a stage or (stage, {{Param: expr}}), "
                f"not {option!r}"
            )
        options.append((stage, sub))
    return options


def _pipeline_of(estimator: Any, uid: str) -> Optional[Pipeline]:
    """The Pipeline inside `estimator` that has the stage `uid`."""
    if isinstance(estimator, Pipeline):
        for stage in estimator.getStages():
            if stage.uid == uid:
                return estimator
            found = _pipeline_of(stage, uid)
            if found is not None:
                return found
    return None


def _best_params(java_model, v: _Validator) -> Dict[Param, Any]:
    grid = v._grid()
    if grid is not None:
        return dict(grid[int(java_model.bestIndex())])
    if not v._has_stage_choice():
        return _param_map_from_java(v.getEstimator(), java_model.bestParams())
    # Stages chosen among alternatives are not all in the estimator, where PySpark's conversion
    # looks for params: the best trial's values are read back onto the Python params instead.
    best_id = int(java_model.trialIds()[int(java_model.bestIndex())])
    trial = next(t for t in json.loads(java_model.trialsJson()) if t["id"] == best_id)
    params: Dict[Param, Any] = {}
    for key, expr in v._space_items():
        if isinstance(key, Param):
            params[key] = trial["values"][_label(key, expr)]
            continue
        stage, sub = _stage_options(key, expr)[int(trial["point"][expr.label])]
        for param, sub_expr in sub.items():
            params[param] = trial["values"][expr.label][_label(param, sub_expr)]
        pipeline = _pipeline_of(v.getEstimator(), key.uid)
        if pipeline is not None:
            params[pipeline.stages] = [stage if s.uid == key.uid else s for s in pipeline.getStages()]
    return params


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
    subModels : subModels[k][i], entry i's model fitted on fold k's training data, when
        collectSubModels (None otherwise, as pyspark's)
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
        subModels: Optional[List[List[Optional[Model]]]] = None,
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
        self.subModels = subModels

    @property
    def bestMetric(self) -> float:
        """The best average metric."""
        return self.avgMetrics[self.bestIndex]

    @classmethod
    def _from_scala(cls, java_model, cv: CrossValidator) -> "CrossValidatorModel":
        best_index = int(java_model.bestIndex())
        best_params = _best_params(java_model, cv)
        sub_models = None
        if java_model.hasSubModels():
            sub_models = [_models(fold) for fold in java_model.subModels()]
        return cls(
            bestModel=JavaParams._from_java(java_model.bestModel()),
            avgMetrics=_floats(java_model.avgMetrics()),
            stdMetrics=_floats(java_model.stdMetrics()),
            foldMetrics=[_floats(folds) for folds in java_model.foldMetrics()],
            bestIndex=best_index,
            bestParams=best_params,
            trialIds=[int(i) for i in java_model.trialIds()],
            trials=json.loads(java_model.trialsJson()),
            subModels=sub_models,
        )

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return self.bestModel.transform(dataset)

    def _sub_model_items(self):
        """(path under subModels, model) pairs in Spark's layout, for save (ml/_persistence.py)."""
        if self.subModels is None:
            return None
        return [(f"fold{k}/{i}", m) for k, fold in enumerate(self.subModels) for i, m in enumerate(fold)]

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
            None if self.subModels is None else [list(f) for f in self.subModels],
        )
        return self._copyValues(copied, extra=extra)


class TrainValidationSplitModel(Model, _SparktuneTrainValidationSplitParams, JavaTunedModelReadWrite):
    """The result of :py:meth:`TrainValidationSplit.fit`: the best configuration refitted on the
    whole data set, transforming with it, and every trial's validation metric.

    Attributes
    ----------
    bestModel : the best configuration's model
    validationMetrics : the metric on the validation split, one per param map in grid mode (in their
        order, as pyspark's), one per finished trial otherwise (in trial id order); NaN for a failed one
    subModels : subModels[i], entry i's model fitted on the training split, when collectSubModels
    bestIndex, bestParams, trialIds, trials : as CrossValidatorModel's
    """

    # save / load (ml/_persistence.py)
    _java_class = "io.sparktune.ml.tuning.TrainValidationSplitModel"
    _java_read_write = "io.sparktune.ml.tuning.persistence.TrainValidationSplitReadWrite"
    _result_fields = ("validationMetrics", "bestIndex", "trialIds", "trials")
    _tuner = TrainValidationSplit

    def __init__(
        self,
        bestModel: Model,
        validationMetrics: Optional[List[float]] = None,
        subModels: Optional[List[Optional[Model]]] = None,
        bestIndex: int = 0,
        bestParams: Optional[Dict[Param, Any]] = None,
        trialIds: Optional[List[int]] = None,
        trials: Optional[List[Dict[str, Any]]] = None,
    ):
        super().__init__()
        self.bestModel = bestModel
        self.validationMetrics = validationMetrics or []
        self.subModels = subModels
        self.bestIndex = bestIndex
        self.bestParams = bestParams or {}
        self.trialIds = trialIds or []
        self.trials = trials or []

    @property
    def bestMetric(self) -> float:
        """The best validation metric."""
        return self.validationMetrics[self.bestIndex]

    @classmethod
    def _from_scala(cls, java_model, tvs: TrainValidationSplit) -> "TrainValidationSplitModel":
        return cls(
            bestModel=JavaParams._from_java(java_model.bestModel()),
            validationMetrics=_floats(java_model.validationMetrics()),
            subModels=_models(java_model.subModels()) if java_model.hasSubModels() else None,
            bestIndex=int(java_model.bestIndex()),
            bestParams=_best_params(java_model, tvs),
            trialIds=[int(i) for i in java_model.trialIds()],
            trials=json.loads(java_model.trialsJson()),
        )

    def _transform(self, dataset: DataFrame) -> DataFrame:
        return self.bestModel.transform(dataset)

    def _sub_model_items(self):
        """(path under subModels, model) pairs in Spark's layout, for save (ml/_persistence.py)."""
        if self.subModels is None:
            return None
        return [(str(i), m) for i, m in enumerate(self.subModels)]

    def copy(self, extra: Optional[Dict[Param, Any]] = None) -> "TrainValidationSplitModel":
        """A copy with the bestModel copied and the extra params set."""
        extra = extra or {}
        copied = TrainValidationSplitModel(
            self.bestModel.copy(extra),
            list(self.validationMetrics),
            None if self.subModels is None else list(self.subModels),
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
