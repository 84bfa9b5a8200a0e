"""sparktune._native: finding and loading the core's library with ctypes, and calling it.

The library must exist (target/release, or $SPARKTUNE_NATIVE_LIB, or a jar); no JVM, no Spark."""

import gc
import os
import subprocess
import sys
import time
import zipfile

import pytest

import sparktune
from sparktune import _native, errors

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(sparktune.__file__)))
SPACE = {"sparktune_space": 1, "root": {"dict": {"x": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}}}


def lib_path():
    return _native.library_path()


def fake_jar(tmp_path, name="sparktune_2.13-0.1.0.jar", with_lib=True):
    jar = tmp_path / name
    with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("io/sparktune/jni/Native.class", b"not really a class")
        if with_lib:
            zf.write(lib_path(), _native.jar_entry())
    return str(jar)


def test_the_jar_entry_normalises_the_arch(monkeypatch):
    monkeypatch.setattr(_native.platform, "machine", lambda: "AMD64")
    assert _native.jar_entry().endswith("/x86_64/libsparktune_jni.so") or sys.platform == "darwin"
    monkeypatch.setattr(_native.platform, "machine", lambda: "arm64")
    assert "/aarch64/" in _native.jar_entry()


def test_the_env_variable_wins_and_a_wrong_one_is_an_error(monkeypatch, tmp_path):
    monkeypatch.setenv(_native.LIB_ENV, lib_path())
    assert _native.locate() == lib_path()
    missing = str(tmp_path / "nope.so")
    monkeypatch.setenv(_native.LIB_ENV, missing)
    with pytest.raises(_native.NativeLibraryNotFoundError, match="nope.so"):
        _native.locate()


def test_the_library_is_extracted_from_the_jar_once_into_the_cache(monkeypatch, tmp_path):
    jar = fake_jar(tmp_path)
    cache = tmp_path / "cache"
    monkeypatch.delenv(_native.LIB_ENV, raising=False)
    monkeypatch.setenv("SPARKTUNE_JAR", jar)
    monkeypatch.setenv(_native.CACHE_ENV, str(cache))
    found = _native.locate()
    assert found.startswith(str(cache)) and os.path.getsize(found) == os.path.getsize(lib_path())
    with zipfile.ZipFile(jar) as zf:
        info = zf.getinfo(_native.jar_entry())
    assert os.path.basename(os.path.dirname(found)) == f"{info.CRC:08x}-{info.file_size}"
    mtime = os.stat(found).st_mtime_ns
    time.sleep(0.01)
    assert _native.locate() == found and os.stat(found).st_mtime_ns == mtime  # not written again
    assert [p for p in os.listdir(os.path.dirname(found)) if p.startswith(".extract-")] == []


def test_concurrent_processes_extract_and_load_safely(tmp_path):
    jar = fake_jar(tmp_path)
    cache = tmp_path / "cache"
    env = dict(os.environ, SPARKTUNE_JAR=jar, SPARKTUNE_CACHE_DIR=str(cache), PYTHONPATH=PYTHON_DIR)
    env.pop(_native.LIB_ENV, None)
    code = "from sparktune import _native; print(_native.version(), _native.library_path())"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths = {out.split()[1] for out, _ in outs}
    assert len(paths) == 1 and paths.pop().startswith(str(cache))
    assert {out.split()[0] for out, _ in outs} == {"0.1.0"}


def test_not_found_names_every_place_looked(monkeypatch, tmp_path):
    monkeypatch.delenv(_native.LIB_ENV, raising=False)
    monkeypatch.setenv("SPARKTUNE_JAR", fake_jar(tmp_path, with_lib=False))
    monkeypatch.setattr(_native, "_REPO_DIR", str(tmp_path / "checkout"))
    with pytest.raises(_native.NativeLibraryNotFoundError) as info:
        _native.locate()
    message = str(info.value)
    assert _native.LIB_ENV in message
    assert "sparktune_2.13-0.1.0.jar!/" + _native.jar_entry() in message and "no library for this platform" in message
    assert str(tmp_path / "checkout" / "target" / "release") in message
    assert isinstance(info.value, FileNotFoundError)


def test_error_kinds_become_sparktune_exceptions(tmp_path):
    with pytest.raises(errors.SearchSpaceError, match="'lr'"):
        _native.validate_space({"sparktune_space": 1, "root": {"hp": "uniform", "label": "lr", "low": 1, "high": 0}})
    with pytest.raises(errors.StudyStateError, match="987654"):
        _native.call("ask", handle=987654, n=1)
    with pytest.raises(errors.NativeError, match="boom at the border"):
        _native.call("test_panic", message="boom at the border")
    store_error = getattr(errors, "StoreError", None) or errors.TrialStoreError
    (tmp_path / "a-file").write_text("not a directory")
    with pytest.raises(store_error, match="a-file"):
        _native.NativeStudy({"space": SPACE, "sampler": {"kind": "random"}, "store": str(tmp_path / "a-file" / "s.journal")})
    with pytest.raises(ValueError, match="NaN"):
        _native.call("space_eval", space=SPACE, point={"x": float("nan")})
    assert _native.version() == "0.1.0"  # the library lives on after a panic


def test_a_study_through_its_handle(tmp_path):
    with _native.NativeStudy({"space": SPACE, "sampler": {"kind": "random"}, "seed": 3}) as study:
        [a, b] = study.ask(2)
        assert (a["id"], b["id"], a["state"]) == (0, 1, "running")
        told = study.tell(a["id"], "ok", value=0.5, metrics={"acc": 0.9}, attrs={"k": [1, 2]})
        assert (told["state"], told["value"], told["metrics"], told["attrs"]) == ("ok", 0.5, {"acc": 0.9}, {"k": [1, 2]})
        assert study.tell(b["id"], "fail", error="diverged", return_trial=False) is None
        e = study.enqueue({"x": 0.25})
        assert e["point"] == {"x": 0.25} and e["state"] == "running"
        assert [t["state"] for t in study.trials()] == ["ok", "fail", "running"]
        assert study.best()["id"] == 0
        with pytest.raises(errors.StudyStateError, match="trial 1"):
            study.tell(b["id"], "ok", value=1.0)
    assert study.closed
    study.close()  # twice: nothing
    with pytest.raises(errors.StudyStateError):
        study.ask(1)


def test_a_study_is_closed_when_garbage_collected():
    study = _native.NativeStudy({"space": SPACE, "sampler": {"kind": "random"}})
    handle = study.handle
    _native.call("ask", handle=handle, n=1)
    del study
    gc.collect()
    with pytest.raises(errors.StudyStateError):
        _native.call("ask", handle=handle, n=1)


def test_a_call_costs_microseconds():
    _native.version()
    n = 5000
    start = time.perf_counter()
    for _ in range(n):
        _native.call("version")
    per_call = (time.perf_counter() - start) / n
    # Typically 4 us here; generous for a loaded machine.
    assert per_call < 100e-6, f"{per_call * 1e6:.1f} us per call"
