"""Progress of a search, as hyperopt reports it: a context manager per fmin call.

A progress callback is called as ``callback(initial=..., total=...)`` and must be a context
manager yielding an object with ``update(n)`` and a writable ``postfix``. fmin's
``show_progressbar=True`` uses tqdm when it is installed, else a plain line on stderr;
``show_progressbar`` may also be such a callback.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
from typing import Any, Iterator, Optional


class _NoProgress:
    postfix: Any = None

    def update(self, n: int) -> None:
        pass


@contextlib.contextmanager
def no_progress_callback(initial: int, total: Optional[int]) -> Iterator[_NoProgress]:
    yield _NoProgress()


class _Line:
    """`done/total trials, best loss: x` rewritten in place on stderr, at most 10 times a second."""

    def __init__(self, initial: int, total: Optional[int], stream: Any):
        self.n = initial
        self.total = total
        self.postfix: Any = None
        self._stream = stream
        self._shown = 0.0
        self._start = time.monotonic()

    def update(self, n: int) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._shown >= 0.1:
            self._shown = now
            self.show()

    def show(self, end: str = "") -> None:
        total = f"/{self.total}" if self.total else ""
        post = f", {self.postfix}" if self.postfix else ""
        self._stream.write(f"\r{self.n}{total} trials, {time.monotonic() - self._start:.1f}s{post}{end}")
        self._stream.flush()


@contextlib.contextmanager
def plain_progress_callback(initial: int, total: Optional[int]) -> Iterator[_Line]:
    line = _Line(initial, total, sys.stderr)
    try:
        yield line
    finally:
        line.show(end="\n")


@contextlib.contextmanager
def tqdm_progress_callback(initial: int, total: Optional[int]) -> Iterator[Any]:
    from tqdm import tqdm

    with tqdm(total=total, initial=initial, unit="trial", dynamic_ncols=True, postfix={"best loss": "?"}) as bar:
        yield bar


def default_callback(initial: int, total: Optional[int]):
    """tqdm's bar when tqdm is installed, else a plain line on stderr."""
    if importlib.util.find_spec("tqdm") is None:
        return plain_progress_callback(initial, total)
    return tqdm_progress_callback(initial, total)
