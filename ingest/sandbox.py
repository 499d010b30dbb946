"""Documents are parsed in a child process with limits, so a hostile file costs a one-line failure,
never the memory or the time of the ingest (or of the server a staff upload runs in).

The child runs `load.load` (type checks, limit pre-checks, the format's parser) under
- an address-space limit (IURC_PARSE_MAX_MEMORY_MB): an allocation past it fails in the child;
- a CPU-time limit per file (IURC_PARSE_MAX_CPU_SECONDS): the kernel stops the child;
- a wall-clock limit per file (IURC_PARSE_MAX_SECONDS): the parent kills the child.
Each breach is a LoadError naming the limit; the next file gets a fresh child. One child serves
a whole ingest (started once: the parsers' imports are paid once, not per file).

Standard library only (multiprocessing with the spawn method, resource); POSIX limits, so on a
system without `resource` the child runs without the memory and CPU limits (the wall clock holds).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

from core import settings
from .load import LoadError, load
from core.models import SourceDoc

try:
    import resource
except ImportError:  # not POSIX
    resource = None


def _serve(conn, memory_bytes: int, cpu_seconds: int) -> None:
    """The child: set the memory limit, then parse what the parent sends until it closes."""
    if resource is not None and memory_bytes > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        path, doc, max_bytes, data = job
        if resource is not None and cpu_seconds > 0:
            # The soft limit only (SIGXCPU ends the child past it): a hard limit, once lowered,
            # could not be raised again for the next file.
            used = resource.getrusage(resource.RUSAGE_SELF)
            soft = int(used.ru_utime + used.ru_stime) + 1 + cpu_seconds
            _, hard = resource.getrlimit(resource.RLIMIT_CPU)
            resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        try:
            conn.send(("ok", load(path, doc, max_bytes, data)))
        except LoadError as exc:
            conn.send(("error", str(exc)))
        except MemoryError:
            conn.send(("memory", ""))
            return  # a fresh child for the next file: this one's heap may be fragmented
        except Exception as exc:  # noqa: BLE001 - any parser failure is this file's failure
            if _out_of_memory(exc):
                conn.send(("memory", ""))
                return
            conn.send(("error", f"unreadable: {type(exc).__name__}: {str(exc)[:200]}"))


def _out_of_memory(exc: Exception) -> bool:
    """The address-space limit, as it shows outside MemoryError: a library that cannot be
    mapped, an allocation refused with ENOMEM."""
    import errno

    return (isinstance(exc, ImportError) and "map" in str(exc)) or \
        (isinstance(exc, OSError) and exc.errno == errno.ENOMEM)


class Sandbox:
    """Parses documents in a limited child process; `load()` has `ingest.load.load`'s contract."""

    def __init__(self, memory_mb: int | None = None, cpu_seconds: int | None = None,
                 wall_seconds: float | None = None):
        self.memory_mb = memory_mb if memory_mb is not None else settings.get("parse_max_memory_mb")
        self.cpu_seconds = cpu_seconds if cpu_seconds is not None else settings.get("parse_max_cpu_seconds")
        self.wall_seconds = wall_seconds if wall_seconds is not None else settings.get("parse_max_seconds")
        self._process = None
        self._conn = None
        self._lock = threading.Lock()  # one file at a time per child

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self.memory_mb * 1024 * 1024, self.cpu_seconds),
                                        daemon=True, name="iurc-parse")
        self._process.start()
        child.close()
        self._conn = parent

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None

    def close(self) -> None:
        with self._lock:
            self._stop()

    def load(self, path: str | Path, doc: str, max_bytes: int, data: bytes | None = None) -> SourceDoc:
        with self._lock:
            for attempt in (1, 2):
                if self._process is None or not self._process.is_alive():
                    self._stop()
                    self._start()
                try:
                    self._conn.send((str(path), doc, max_bytes, data))
                    if not self._conn.poll(self.wall_seconds):
                        self._stop()
                        raise LoadError(f"parsing took longer than {self.wall_seconds:g} s (IURC_PARSE_MAX_SECONDS)")
                    kind, value = self._conn.recv()
                    break
                except (EOFError, OSError):
                    self._process.join(5)  # its exit status, if it is going
                    code = self._process.exitcode
                    self._stop()
                    if code == -signal.SIGXCPU:
                        raise LoadError(f"parsing needed more than {self.cpu_seconds} s of CPU "
                                        "(IURC_PARSE_MAX_CPU_SECONDS)") from None
                    if attempt == 1 and code in (None, 0):
                        continue  # the child went away before this file reached it: a fresh one
                    raise LoadError(f"the parser stopped (exit {code}): more than {self.memory_mb} MB "
                                    "(IURC_PARSE_MAX_MEMORY_MB) or a crash") from None
            if kind == "ok":
                return value
            if kind == "memory":
                self._stop()
                raise LoadError(f"parsing needed more than {self.memory_mb} MB (IURC_PARSE_MAX_MEMORY_MB)")
            raise LoadError(value)

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def enabled() -> bool:
    return settings.get("parse_sandbox") == "on" and os.name == "posix"
