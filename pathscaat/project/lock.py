"""One writer per project: an exclusive OS lock on ``project.lock``, with the holder's pid.

The lock is an ``flock`` (POSIX) or ``msvcrt.locking`` (Windows) on an open file, so the
operating system drops it when the holder dies, however it dies: a lock left by a killed
process is simply taken over by the next opener. The pid and host written into the file
only serve the notice that a second opener shows ("open in PathSCAAT pid 123 on host").
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

LOCK_NAME = "project.lock"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class ProjectLock:
    """The writer's lock of one project folder; :meth:`acquire` says whether we got it."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        self._fd: int | None = None
        self.refusal = ""  # why acquire() failed, for the read-only notice

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if no live process holds it; True when this process is the writer."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only share or folder
            self.refusal = (
                f"its folder is not writable ({exc.strerror or exc}); copy the "
                "project to a writable folder to edit it"
            )
            return False
        if not _try_lock(fd):
            os.close(fd)
            self.refusal = (
                f"it is open in another PathSCAAT ({self.holder()}); close it there to edit it here"
            )
            return False
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        text = f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n"
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
        self._fd = fd
        return True

    def holder(self) -> str:
        """Who holds the lock, as the holder wrote it ("pid 123 on host since ...")."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return "another process"
        return text or "another process"

    def release(self) -> None:
        if self._fd is None:
            return
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = None
