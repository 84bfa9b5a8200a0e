"""PySpark's Python daemon, with the indexes of the zips on sys.path kept for the workers' life.

Before every task, a Python worker calls importlib.invalidate_caches(). On Python 3.11 that makes
each zip importer re-read its archive's whole index, and a pip-installed pyspark puts pyspark.zip
and the 15 MB spark-core jar on the workers' path, with an importer for each package inside them:
about 0.14 s a task here, before any user code runs (Python 3.12 made that re-read lazy).

The archives do not change while a worker lives (a file added with addPyFile has a path of its
own, hence an importer of its own), so a kept index is never stale. This module keeps them:

- As Spark's daemon (`spark.python.daemon.module`, which `sparktune.configure` sets where the
  executors run this Python, i.e. in local mode), it installs `KeptZipIndex` as the zip path hook
  before pyspark's daemon forks any worker: every task of the session is spared the re-read.
- `keep_zip_indexes()` swaps the importers of a worker that started from pyspark's own daemon;
  SparkTrials' task calls it, so that such a worker pays once, in its first trial.

It imports nothing of sparktune's: SparkTrials ships it to executors by value (cloudpickle).
"""

import sys
import zipimport


class KeptZipIndex(zipimport.zipimporter):
    """A zip importer that keeps the index it read when invalidate_caches() is called."""

    def invalidate_caches(self):
        pass


def keep_zip_indexes():
    """Replaces the zip importers cached on sys.path by `KeptZipIndex` ones (each swap reads
    nothing: the index is in zipimport's cache)."""
    for path, finder in list(sys.path_importer_cache.items()):
        if type(finder) is zipimport.zipimporter:  # an archive, or a package inside one
            try:
                sys.path_importer_cache[path] = KeptZipIndex(path)
            except Exception:  # an archive gone: leave the importer as it is
                pass


def main():
    # The hook comes first: importers made from here on (pyspark's) are kept ones.
    sys.path_hooks.insert(0, KeptZipIndex)
    keep_zip_indexes()
    from pyspark.daemon import manager

    manager()


if __name__ == "__main__":
    main()
