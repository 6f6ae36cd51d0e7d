"""The process heap: giving freed memory back to the system."""

from __future__ import annotations

import contextlib
import ctypes


def release_freed_memory() -> None:
    """Give the heap's free pages back to the system (glibc). Loading a model leaves much
    freed but resident: a tenth of the Lingua models loaded on several threads; 29 MiB of
    the 600M's conversion to int8 (a replica held 931 MiB instead of ~900 after loading)."""
    # Another C library has no malloc_trim: nothing to give back this way.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
