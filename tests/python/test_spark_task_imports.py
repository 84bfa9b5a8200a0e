"""The trial task's zip-importer swap (sparktune.pyspark_daemon.keep_zip_indexes): a reused Python
worker keeps the indexes of the zips on sys.path (pyspark.zip, the spark-core jar) across
importlib.invalidate_caches(), which Spark calls before every task, and imports from those zips
still work."""

import importlib
import sys
import zipfile

from sparktune import pyspark_daemon
from sparktune.hyperopt import _spark_task


def test_zip_importers_keep_their_index_and_still_import(tmp_path, monkeypatch):
    archive = tmp_path / "lib.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("zipped_pkg/__init__.py", "")
        z.writestr("zipped_pkg/first.py", "VALUE = 1\n")
        z.writestr("zipped_pkg/second.py", "VALUE = 2\n")
    monkeypatch.syspath_prepend(str(archive))
    for name in ("zipped_pkg", "zipped_pkg.first", "zipped_pkg.second"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import zipped_pkg.first  # noqa: F401  (the archive's and the package's importers are now cached)

    pyspark_daemon.keep_zip_indexes()

    swapped = {path: finder for path, finder in sys.path_importer_cache.items() if path.startswith(str(archive))}
    assert set(swapped) == {str(archive), str(archive / "zipped_pkg")}
    assert all(type(f) is pyspark_daemon.KeptZipIndex for f in swapped.values())
    importlib.invalidate_caches()  # what Spark's worker does before each task
    assert importlib.import_module("zipped_pkg.second").VALUE == 2
    pyspark_daemon.keep_zip_indexes()  # the next task of the reused worker: nothing left to swap
    assert {p: f for p, f in sys.path_importer_cache.items() if p.startswith(str(archive))} == swapped


class _Objective:
    """Stands for the broadcast of the objective: evaluate() reads `.value`."""

    def __init__(self, fn):
        self.value = fn


def test_worker_objects_are_frozen_but_the_objectives_garbage_is_collected():
    import gc
    import weakref

    class Node:
        pass

    held = []

    def objective(values):
        node = Node()
        node.self = node  # a cycle: only the cyclic collector frees it
        held.append(weakref.ref(node))
        return {"loss": values["x"], "status": "ok", "frozen": gc.get_freeze_count()}

    gc.unfreeze()
    try:
        answer = _spark_task.evaluate(_Objective(objective), {"x": 1.0}, None)
        assert answer[0] == "ok"
        result = _spark_task.pickle.loads(answer[1])
        assert result["frozen"] > 0  # the worker's objects were frozen before the objective ran
        gc.collect()  # what Spark's daemon does after the task
        assert held[0]() is None  # the objective's cyclic garbage was not frozen with them
    finally:
        gc.unfreeze()
