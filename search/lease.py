"""Which process on a machine writes its search index: the holder of a file lock.

Every `souk serve` process on a machine searches the same index folder, but tantivy allows one
writer. The writer is whichever process holds an exclusive `flock` on a file beside the folder.
The kernel drops the lock when its holder exits, however it dies (even SIGKILL), so another
process takes over on its next try: no stale lock to clean up, no timeout to tune. The lock file
lives beside the folder, not in it, because a schema change wipes the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path


class WriterLease:
    """A non-blocking exclusive lock on `path`; held until `release()` or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other process (or other lease object) holds it; True if held now."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())  # for a curious operator; the lock is the flock
        self._fd = fd
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
