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
    """`12/32 trials, 4.1s, <postfix>` on stderr: rewritten in place on a terminal or in a notebook
    (at most 10 times a second), else a new line every 10 s (a log file gets no carriage returns).
    SparkTrials sets the postfix (running, failed, best loss) and calls `refresh` as trials move."""

    def __init__(self, initial: int, total: Optional[int], stream: Any):
        self.n = initial
        self.total = total
        self.postfix: Any = None
        self._stream = stream
        isatty = getattr(stream, "isatty", None)
        self._in_place = bool(isatty and isatty()) or "ipykernel" in sys.modules
        self._every = 0.1 if self._in_place else 10.0
        self._start = time.monotonic()
        self._shown = 0.0 if self._in_place else self._start

    def update(self, n: int) -> None:
        self.n += n
        self.refresh()

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self._shown >= self._every:
            self._shown = now
            self.show()

    def text(self) -> str:
        total = f"/{self.total}" if self.total else ""
        post = f", {self.postfix}" if self.postfix else ""
        return f"{self.n}{total} trials, {time.monotonic() - self._start:.1f}s{post}"

    def show(self, last: bool = False) -> None:
        if self._in_place:
            self._stream.write(f"\r{self.text()}{' ' * 8}" + ("\n" if last else ""))
        else:
            self._stream.write(self.text() + "\n")
        self._stream.flush()


@contextlib.contextmanager
def plain_progress_callback(initial: int, total: Optional[int]) -> Iterator[_Line]:
    line = _Line(initial, total, sys.stderr)
    try:
        yield line
    finally:
        line.show(last=True)


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
