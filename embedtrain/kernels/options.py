"""numba compilation options, in one place for every kernel.

``cache=True`` keeps compiled machine code on disk (beside the module, or in
NUMBA_CACHE_DIR) so only the first run pays the compile time. fastmath is on
without ``nnan``/``ninf`` so that a NaN or an infinity can still be detected and
reported instead of being optimised away.
"""

FASTMATH_FLAGS = {"nsz", "arcp", "contract", "afn", "reassoc"}

KERNEL_OPTIONS = dict(cache=True, nogil=True, fastmath=FASTMATH_FLAGS, error_model="numpy")

# Small helpers are inlined into the kernels that call them.
HELPER_OPTIONS = dict(KERNEL_OPTIONS, inline="always")
