"""save and load of sparktune's tuners from PySpark, as pyspark.ml's Java-backed stages do it.

The JVM writes and reads the files (Scala's io.sparktune.ml.tuning.persistence): Spark's layout,
the same whichever language saved them. A tuner goes to the JVM through its `_to_java_tuner(spark)`
(the object `fit` runs) and comes back through `_from_java`, so `CrossValidator.load(path)`
returns sparktune's Python classes, and a pyspark Pipeline or PipelineModel with a sparktune stage
saves and loads as with Spark's own stages.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.common import _java2py
from pyspark.ml.param import Param, Params
from pyspark.ml.util import JavaMLReadable, JavaMLReader, JavaMLWritable
from pyspark.ml.wrapper import JavaEstimator, JavaParams
from pyspark.sql import SparkSession

from sparktune._jvm import java_class
from sparktune.space import from_node

# Saved in forms of their own (sub-directories, Spark's param-map JSON, the space's bindings).
_SPECIAL = ("estimator", "evaluator", "estimatorParamMaps", "searchSpace")


class _TunerReader(JavaMLReader):
    """JavaMLReader for a class whose JVM peer is named by its `_java_class` (pyspark derives the
    name from the Python module, which works for pyspark.ml only)."""

    @classmethod
    def _java_loader_class(cls, clazz) -> str:
        return clazz._java_class

    @classmethod
    def _load_java_obj(cls, clazz):
        # sparktune's lookup: a clear error when the jar is not on the session.
        return java_class(cls._java_loader_class(clazz))


def _spark() -> SparkSession:
    return SparkSession.active()


def _nested_stages(stage: Params) -> List[Params]:
    """`stage` and the stages inside it, through Pipelines and PipelineModels."""
    if isinstance(stage, Pipeline):
        children = stage.getStages()
    elif isinstance(stage, PipelineModel):
        children = stage.stages
    else:
        children = []
    return [stage] + [s for child in children for s in _nested_stages(child)]


def _param_maps_to_java(estimator, maps: List[Dict[Param, Any]]):
    """Python param maps as a Java ParamMap[], by pyspark's own conversion."""
    from pyspark.ml.tuning import _ValidatorSharedReadWrite

    if isinstance(estimator, JavaEstimator):
        gateway = _spark().sparkContext._gateway
        array = gateway.new_array(gateway.jvm.org.apache.spark.ml.param.ParamMap, len(maps))
        for i, m in enumerate(maps):
            array[i] = estimator._transfer_param_map_to_java(m)
        return array
    return _ValidatorSharedReadWrite.meta_estimator_transfer_param_maps_to_java(estimator, maps)


def _search_space_from_java(java_space, estimator) -> Dict[Param, Any]:
    """A Scala ParamSpace as {Param of a stage of `estimator`: expression}."""
    stages = {s.uid: s for s in _nested_stages(estimator)}
    space = {}
    for binding in json.loads(java_space.bindingsJson()):
        stage = stages.get(binding["stage"])
        if stage is None or not stage.hasParam(binding["param"]):
            raise ValueError(
                f"searchSpace binds {binding['stage']}.{binding['param']} (label "
                f"'{binding.get('label')}'), which is no param of a stage of the estimator {estimator.uid}"
            )
        space[stage.getParam(binding["param"])] = from_node(binding["space"])
    return space


def _params_from_java(py: Params, java) -> None:
    """Sets on `py` what the JVM tuner (or its model) `java` holds: estimator, evaluator, param maps
    or search space, and every other param that both have, by name, where set on the JVM side."""
    from sparktune.ml.tuning import _param_map_from_java

    def defined(name: str) -> bool:
        return bool(java.hasParam(name) and java.isDefined(java.getParam(name)))

    estimator = JavaParams._from_java(java.getEstimator()) if defined("estimator") else None
    if estimator is not None:
        py._set(estimator=estimator)
    if defined("evaluator"):
        py._set(evaluator=JavaParams._from_java(java.getEvaluator()))
    if defined("estimatorParamMaps"):
        py._set(estimatorParamMaps=[_param_map_from_java(estimator, m) for m in java.getEstimatorParamMaps()])
    if defined("searchSpace"):
        py._set(searchSpace=_search_space_from_java(java.getSearchSpace(), estimator))
    sc = _spark().sparkContext
    for param in py.params:
        if param.name in _SPECIAL or not java.hasParam(param.name):
            continue
        java_param = java.getParam(param.name)
        if java.isSet(java_param):
            py._set(**{param.name: _java2py(sc, java.getOrDefault(java_param))})


class JavaTunerReadWrite(JavaMLReadable, JavaMLWritable):
    """save / load for a sparktune tuner: the class names its JVM peer in `_java_class` and builds
    it with `_to_java_tuner(spark)`."""

    _java_class: str

    @classmethod
    def read(cls) -> _TunerReader:
        """An MLReader for this class (the JVM reads the files)."""
        return _TunerReader(cls)

    def _to_java(self):
        return self._to_java_tuner(_spark())

    @classmethod
    def _from_java(cls, java_stage):
        """The Python tuner of a JVM one (pyspark calls it for a Pipeline's stage)."""
        py = cls()
        py._resetUid(java_stage.uid())
        _params_from_java(py, java_stage)
        return py


def _json_number(x: float) -> Any:
    """A metric as the JVM reads it: NaN and the infinities (no JSON numbers) as Java spells them."""
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def _json_results(value: Any) -> Any:
    if isinstance(value, float):
        return _json_number(value)
    if isinstance(value, (list, tuple)):
        return [_json_results(v) for v in value]
    return value


class JavaTunedModelReadWrite(JavaMLReadable, JavaMLWritable):
    """save / load for a sparktune tuner's model. The class names its JVM peer (`_java_class`), its
    tuner class (`_tuner`), the JVM factory that builds the peer from Python's values
    (`_java_read_write`, with `model(uid, tuner, bestModel, bestParams, resultsJson)` and
    `setSubModels(model, paths, models)`) and the attributes that make its results
    (`_result_fields`); `_sub_model_items()` gives its sub-models as (path under subModels, model)
    pairs (None without sub-models); `_from_scala(java_model, tuner)` reads the results back."""

    _java_class: str
    _java_read_write: str
    _result_fields: tuple
    _tuner: type

    @classmethod
    def read(cls) -> _TunerReader:
        """An MLReader for this class (the JVM reads the files)."""
        return _TunerReader(cls)

    def _to_java(self):
        spark = _spark()
        tuner = self._copyValues(self._tuner())
        java_tuner = tuner._to_java_tuner(spark)
        best_params = self.bestParams or {}
        java_best = _param_maps_to_java(tuner.getEstimator(), [best_params])[0]
        results = {name: _json_results(getattr(self, name)) for name in self._result_fields}
        read_write = java_class(self._java_read_write, spark)
        java_model = read_write.model(
            self.uid, java_tuner, self.bestModel._to_java(), java_best, json.dumps(results, allow_nan=False)
        )
        sub_models = self._sub_model_items()
        if sub_models is not None:
            jvm = spark.sparkContext._jvm
            paths, models = jvm.java.util.ArrayList(), jvm.java.util.ArrayList()
            for sub_path, sub_model in sub_models:
                paths.add(sub_path)
                models.add(None if sub_model is None else sub_model._to_java())
            read_write.setSubModels(java_model, paths, models)
        return java_model

    @classmethod
    def _from_java(cls, java_model):
        """The Python model of a JVM one (pyspark calls it for a PipelineModel's stage)."""
        tuner = cls._tuner._from_java(java_model)
        model = cls._from_scala(java_model, tuner)
        model._resetUid(java_model.uid())
        return tuner._copyValues(model)
