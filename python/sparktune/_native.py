"""sparktune's core in this process, without a JVM: the native library loaded with ctypes.

The library is the one the JVM loads (``libsparktune_jni``); besides its JNI exports it has a small
C ABI, one entry point that takes a method name and its arguments as JSON::

    char *sparktune_call(const char *method, const char *args_json);  /* free with sparktune_free */

and answers ``{"ok": result}`` or ``{"error": {"kind": ..., "message": ...}}``. ``call`` is the thin
Python side of it; :class:`NativeStudy` holds a study's handle.

Where the library is found, first hit wins:

1. ``$SPARKTUNE_NATIVE_LIB``, a path to the library (an error if it names no file);
2. inside sparktune's jar (the one ``sparktune.jar_path()`` finds: ``$SPARKTUNE_JAR``, the
   package's ``jars/``, a source checkout's ``scala/target``), at
   ``io/sparktune/native/<os>/<arch>/``, extracted once into a per-user cache directory
   (``$SPARKTUNE_CACHE_DIR``, else ``$XDG_CACHE_HOME/sparktune``, else ``~/.cache/sparktune``)
   under a name keyed by the entry's CRC and size, written atomically so that concurrent processes
   never load a half-written file;
3. a source checkout's ``target/release/`` (``cargo build --release -p sparktune-jni``).
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import sys
import tempfile
import threading
import weakref
import zipfile
from typing import Any, Dict, List, Optional, Tuple

from sparktune import errors

LIB_ENV = "SPARKTUNE_NATIVE_LIB"
CACHE_ENV = "SPARKTUNE_CACHE_DIR"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_REPO_DIR = os.path.dirname(os.path.dirname(_PACKAGE_DIR))

# The error classes, by the core's error kind (all sparktune.errors.SparktuneError).
_INVALID_INPUT = errors.InvalidInputError
_STORE = errors.TrialStoreError
_ERROR_CLASSES = {
    "InvalidInput": _INVALID_INPUT,
    "State": errors.StudyStateError,
    "Io": _STORE,
    "Internal": errors.NativeError,
}


class NativeLibraryNotFoundError(errors.NativeError, FileNotFoundError):
    """sparktune's native library was in none of the places looked (the message lists them)."""


def _platform() -> Tuple[str, str, str]:
    """(os, arch, file name) as the jar lays the library out: arch names normalised
    (amd64 and x86_64 are one arch, as are arm64 and aarch64)."""
    system = sys.platform
    os_name = "darwin" if system == "darwin" else ("linux" if system.startswith("linux") else system)
    machine = platform.machine().lower()
    arch = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    file_name = "libsparktune_jni.dylib" if os_name == "darwin" else "libsparktune_jni.so"
    return os_name, arch, file_name


def jar_entry() -> str:
    """The library's path inside sparktune's jar, for this platform."""
    os_name, arch, file_name = _platform()
    return f"io/sparktune/native/{os_name}/{arch}/{file_name}"


def cache_dir() -> str:
    """Where libraries extracted from jars are kept (one sub-directory per library content)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sparktune", "native")


def _extract(jar: str) -> Optional[str]:
    """The library inside `jar`, extracted into the cache (once per content); None when the jar
    has no library for this platform."""
    entry = jar_entry()
    with zipfile.ZipFile(jar) as zf:
        try:
            info = zf.getinfo(entry)
        except KeyError:
            return None
        # Keyed by the content (the zip's CRC-32 and size): a rebuilt jar gets a new file, and the
        # same library in two jars shares one.
        directory = os.path.join(cache_dir(), f"{info.CRC:08x}-{info.file_size}")
        target = os.path.join(directory, os.path.basename(entry))
        if os.path.isfile(target) and os.path.getsize(target) == info.file_size:
            return target
        os.makedirs(directory, exist_ok=True)
        # A private temporary file renamed into place: another process either sees no file or a
        # whole one (rename is atomic), and two extracting at once both write the same bytes.
        fd, tmp = tempfile.mkstemp(prefix=".extract-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as out, zf.open(info) as src:  # zipfile checks the CRC
                while True:
                    chunk = src.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o755)
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target


def locate() -> str:
    """The path of the native library to load (see the module docs for the order). Raises
    NativeLibraryNotFoundError listing every place looked."""
    env = os.environ.get(LIB_ENV)
    if env:
        if os.path.isfile(env):
            return env
        raise NativeLibraryNotFoundError(f"${LIB_ENV} is set to {env!r}, which is not a file")
    looked: List[str] = [f"${LIB_ENV} (not set)"]
    import sparktune  # the package's jar lookup; imported here as the package imports this module's siblings

    try:
        jar = sparktune.jar_path()
    except errors.JarNotFoundError as e:
        looked.append("sparktune's jar: " + str(e).replace("\n", "\n    "))
    else:
        try:
            extracted = _extract(jar)
        except (OSError, zipfile.BadZipFile) as e:
            looked.append(f"{jar}!/{jar_entry()}: could not extract it into {cache_dir()}: {e}")
        else:
            if extracted:
                return extracted
            looked.append(f"{jar}!/{jar_entry()} (the jar has no library for this platform)")
    dev = os.path.join(_REPO_DIR, "target", "release", _platform()[2])
    if os.path.isfile(dev):
        return dev
    looked.append(f"{dev} (a source checkout's `cargo build --release -p sparktune-jni`)")
    places = "\n".join(f"  - {p}" for p in looked)
    raise NativeLibraryNotFoundError(
        f"sparktune's native library ({_platform()[2]}) was not found. Looked in:\n{places}\n"
        f"Set ${LIB_ENV} to the library's path, or install sparktune with its jar."
    )


_lock = threading.Lock()
_lib: Optional[ctypes.CDLL] = None
_lib_path: Optional[str] = None
_load_error: Optional[Exception] = None


def _load() -> ctypes.CDLL:
    global _lib, _lib_path, _load_error
    with _lock:
        if _lib is not None:
            return _lib
        # The first failure is remembered and raised again: retrying each call would only repeat
        # the same search (and its extraction attempt) on the hot path.
        if _load_error is not None:
            raise _load_error
        try:
            path = locate()
            try:
                lib = ctypes.CDLL(path)
                lib.sparktune_call.restype = ctypes.c_void_p
                lib.sparktune_call.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
                lib.sparktune_free.restype = None
                lib.sparktune_free.argtypes = [ctypes.c_void_p]
            except (OSError, AttributeError) as e:
                raise errors.NativeError(f"could not load sparktune's native library {path}: {e}") from None
        except Exception as e:  # not a Ctrl-C: that may succeed when tried again
            _load_error = e
            raise
        _lib, _lib_path = lib, path
        return lib


def library_path() -> str:
    """The path of the loaded library (loading it if need be)."""
    _load()
    assert _lib_path is not None
    return _lib_path


def _plain(value: Any) -> Any:
    """numpy scalars and arrays as Python values, for JSON."""
    tolist = getattr(value, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable: {value!r}")


# allow_nan=False: the core reads strict JSON; a NaN is refused here with a Python error.
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, default=_plain).encode
_decode = json.JSONDecoder().decode
_string_at = ctypes.string_at
_method_bytes: Dict[str, bytes] = {}


def error_from(method: str, error: Dict[str, Any], invalid_input: Optional[type] = None) -> Exception:
    """The Python exception for an error answer of the core, keeping its message (which names the
    label, trial or file)."""
    kind = error.get("kind", "Internal")
    if kind == "InvalidInput" and invalid_input is not None:
        cls = invalid_input
    else:
        cls = _ERROR_CLASSES.get(kind, errors.NativeError)
    err = cls(error.get("message") or f"{method}: {kind} error")
    err.kind = kind
    err.method = method
    return err


def _call(method: str, args: Dict[str, Any], invalid_input: Optional[type] = None, result: bool = True) -> Any:
    lib = _lib or _load()
    name = _method_bytes.get(method)
    if name is None:
        name = _method_bytes.setdefault(method, method.encode())
    try:
        payload = _encode(args).encode()
    except ValueError as e:
        raise (invalid_input or _INVALID_INPUT)(
            f"{method}: the arguments hold a NaN or infinite number, which JSON cannot carry ({e})"
        ) from None
    answer = lib.sparktune_call(name, payload)
    try:
        text = _string_at(answer)
    finally:
        lib.sparktune_free(answer)
    if not result and text.startswith(b'{"ok":'):
        return None  # the caller does not want the result: spare decoding it
    decoded = _decode(text.decode())
    try:
        return decoded["ok"]
    except KeyError:
        raise error_from(method, decoded.get("error") or {}, invalid_input) from None


def call(method: str, **args: Any) -> Any:
    """Runs `method` of the core with `args` (JSON-able); its result, decoded. Raises the
    sparktune exception of the core's error kind, with the core's message."""
    return _call(method, args)


def version() -> str:
    """The core's version."""
    return call("version")


def validate_space(space: Any) -> List[str]:
    """Has the core check a schema-1 space document (a dict, or its JSON text); its labels in
    first-appearance order. An invalid space raises SearchSpaceError (a ValueError) naming the
    label (or JSON path) and the rule."""
    return _call("validate_space", {"space": space}, errors.SearchSpaceError)["labels"]


def space_eval(space: Any, point: Dict[str, Any]) -> Any:
    """The values of a schema-1 space document (a dict, or its JSON text) at a raw point (label ->
    number). A point that does not fit the space raises SearchSpaceError naming the label."""
    return _call("space_eval", {"space": space, "point": point}, errors.SearchSpaceError)


def _close_handle(handle: int) -> None:
    # From a finalizer: at interpreter exit or after the library failed, say nothing.
    try:
        call("close_study", handle=handle)
    except Exception:
        pass


class NativeStudy:
    """A study of the core, by handle: created (or resumed from its journal) from a study config
    (contract section 2), closed by :meth:`close`, by ``with``, or when garbage collected.

    Trials are the core's JSON dicts: ``{"id", "state", "point", "values", "value", "metrics",
    "error", "attrs", "started_ms", "finished_ms"}``."""

    __slots__ = ("handle", "info", "_finalizer", "__weakref__")

    def __init__(self, config: Dict[str, Any]):
        created = call("create_study", config=config)
        self.handle: int = created["handle"]
        # {"direction", "n_trials", "seed", "warnings", "labels"} (older libraries answered them flat).
        self.info: Dict[str, Any] = created.get("info") or {k: v for k, v in created.items() if k != "handle"}
        self._finalizer = weakref.finalize(self, _close_handle, self.handle)

    @property
    def warnings(self) -> List[str]:
        """What the core warned about on creation (e.g. a torn last record of a reopened journal)."""
        return list(self.info.get("warnings") or [])

    @property
    def seed(self) -> Optional[int]:
        """The study's seed: a resumed store's own (see the study config's `seed_from_store`)."""
        seed = self.info.get("seed")
        return None if seed is None else int(seed)

    @property
    def n_trials(self) -> int:
        """How many trials the study had when opened (a resumed journal's)."""
        return int(self.info.get("n_trials") or 0)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def ask(self, n: int = 1) -> List[Dict[str, Any]]:
        """`n` new running trials (fewer when the sampler is done, as an exhausted grid)."""
        return call("ask", handle=self.handle, n=n)

    def enqueue(self, point: Dict[str, Any]) -> Dict[str, Any]:
        """A new running trial at the caller's raw `point` (checked against the space: one that
        does not fit raises SearchSpaceError naming the label)."""
        return _call("enqueue", {"handle": self.handle, "point": point}, errors.SearchSpaceError)

    def tell(
        self,
        trial_id: int,
        state: str,
        value: Optional[float] = None,
        metrics: Optional[Dict[str, float]] = None,
        error: Optional[str] = None,
        attrs: Any = None,
        return_trial: bool = True,
    ) -> Optional[Dict[str, Any]]:
        """Records the outcome of a running trial ("ok" with a finite value, "fail", "cancelled");
        the told trial (None with return_trial=False, which spares decoding it)."""
        outcome: Dict[str, Any] = {"state": state}
        if value is not None:
            outcome["value"] = value
        if metrics:
            outcome["metrics"] = metrics
        if error is not None:
            outcome["error"] = error
        if attrs is not None:
            outcome["attrs"] = attrs
        return _call("tell", {"handle": self.handle, "id": trial_id, "outcome": outcome}, None, return_trial)

    def trials(self) -> List[Dict[str, Any]]:
        """Every trial, by id."""
        return call("trials", handle=self.handle)

    def best(self) -> Optional[Dict[str, Any]]:
        """The best ok trial, or None."""
        return call("best", handle=self.handle)

    def close(self) -> None:
        """Closes the study (its journal flushed and unlocked). Closing twice does nothing."""
        if self._finalizer.detach() is not None:
            call("close_study", handle=self.handle)

    def __enter__(self) -> "NativeStudy":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NativeStudy(handle={self.handle}{', closed' if self.closed else ''})"
