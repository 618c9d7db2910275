"""numba kernels: pure functions over numpy arrays, updated in place.

No Python objects, dicts or module-level arrays reach a kernel; every table is
an argument. Each kernel has a plain-numpy reference in ``tests/reference.py``.
"""
