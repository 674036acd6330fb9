"""Child processes that die with their parent (Linux ``PR_SET_PDEATHSIG``): a killed import leaves
no parse worker and no LibreOffice conversion running."""

from __future__ import annotations

import os
import signal

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux; elsewhere nothing).
    ``parent`` is the pid the caller expects as parent: if it is already gone, exit at once."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
