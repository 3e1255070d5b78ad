"""Give the heap memory a big piece of work freed back to the operating system (issue 15).

glibc keeps what a peak freed in its arenas for the next allocation; ``malloc_trim`` hands the free pages
back, so the resident size after an evaluation is what the process holds, not what its last peak needed
(docs/PERFORMANCE.md, "Issue 15: memory (RSS)"). Another C library (musl, macOS) has no such call: nothing
is done there.
"""

from __future__ import annotations

from functools import lru_cache

__all__ = ["release_memory"]


@lru_cache(maxsize=1)
def _malloc_trim():
    """Return glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim  # the process's own symbols: the C library it runs on
    except (ImportError, OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_memory() -> bool:
    """Hand the heap's free pages back to the operating system; return whether the C library could."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
