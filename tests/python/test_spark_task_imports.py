"""The trial task's zip-importer swap: a reused Python worker keeps the indexes of the zips on
sys.path (pyspark.zip, the spark-core jar) across importlib.invalidate_caches(), which Spark calls
before every task, and imports from those zips still work."""

import importlib
import sys
import zipfile

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

    _spark_task._keep_zip_indexes()

    swapped = {path: finder for path, finder in sys.path_importer_cache.items() if path.startswith(str(archive))}
    assert set(swapped) == {str(archive), str(archive / "zipped_pkg")}
    assert all(type(f).__name__ == "_KeptZipIndex" for f in swapped.values())
    importlib.invalidate_caches()  # what Spark's worker does before each task
    assert importlib.import_module("zipped_pkg.second").VALUE == 2
    _spark_task._keep_zip_indexes()  # the next task of the reused worker: nothing left to swap
    assert {p: f for p, f in sys.path_importer_cache.items() if p.startswith(str(archive))} == swapped
