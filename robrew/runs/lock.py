"""One writer per run directory: :class:`RunLock`."""

from __future__ import annotations

import os
from pathlib import Path

from robrew.runs.config import ConfigError

# ---- one writer per run --------------------------------------------------------------------

LOCK_FILE = ".lock"


class RunLock:
    """One writer per run directory: an exclusive ``fcntl`` lock on ``<run_dir>/.lock``, held
    until :meth:`release` (or until the process ends, however it ends: the kernel drops it).

    Example:
        >>> with RunLock(run_dir):
        ...     train(...)

    Raises:
        ConfigError: another process holds the lock (the message names its pid).
    """

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"{self.path.parent} is in use by another robrew process (pid {holder}); "
                "wait for it to finish, or use another run directory"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
