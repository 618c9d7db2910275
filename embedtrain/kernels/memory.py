"""Memory helpers for kernels: a software prefetch hint.

Kernels that touch rows of large matrices at random (noise words, co-occurrence
entries) issue the loads of upcoming rows early so that the cache misses overlap.
"""
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import config, types
from numba.core import cgutils
from numba.extending import intrinsic

# One cache line holds this many float32 values.
CACHE_LINE_FLOATS = 16
# The prefetch intrinsic is named after its pointer type: opaque ``ptr`` since LLVM
# 17, ``i8*`` before (llvmlite still writes typed pointers, which LLVM upgrades).
_PREFETCH_INTRINSIC = "llvm.prefetch.p0" if llvm_binding.llvm_version_info >= (17,) else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, array, index):
    """Hint the CPU to load the cache line holding ``array[index]`` (``index`` an
    integer, or a tuple for 2-d arrays); no effect on results (llvm.prefetch)."""
    if isinstance(index, types.Integer):
        indices = (index,)
    elif isinstance(index, types.BaseTuple) and all(isinstance(t, types.Integer) for t in index.types):
        indices = tuple(index.types)
    else:
        return None
    if not isinstance(array, types.Array) or array.ndim != len(indices):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        aryty, idxty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        if isinstance(idxty, types.Integer):
            values = [args[1]]
        else:
            values = cgutils.unpack_tuple(builder, args[1], len(indices))
        values = [context.cast(builder, v, t, types.intp) for v, t in zip(values, indices)]
        pointer = cgutils.get_item_pointer(context, builder, aryty, ary, values, wraparound=False)
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]), _PREFETCH_INTRINSIC)
        # read access, high temporal locality, data cache
        builder.call(fn, [builder.bitcast(pointer, byte_ptr), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


if config.DISABLE_JIT:
    # NUMBA_DISABLE_JIT=1 runs kernels as plain Python (for a debugger or coverage),
    # where an intrinsic cannot be called: a prefetch is only a hint, so do nothing.
    def prefetch(array, index):  # noqa: F811
        """Plain-Python stand-in for the prefetch intrinsic: no effect."""
