"""``embedtrain compress``: a smaller model file (int8 or product-quantised vectors) that
every command reads (docs/memory.md)."""
from __future__ import annotations

import click

from ..quantization import DEFAULT_PQ_ROTATION, DEFAULT_SEED, PQ_NITER, PQ_ROTATIONS
from .app import handle_errors, log, main, verbosity_options

METHODS = ("int8", "pq")


@main.command("compress", short_help="Compress a model's vectors (int8 or product quantisation).")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, metavar="OUT", help="The compressed model file (.etm).")
@click.option("--method", type=click.Choice(METHODS), default="int8", show_default=True,
              help="int8: 1 byte a value and a scale per row; pq: product quantisation, "
                   "--pq-subvectors bytes a row (fastText's quantize).")
@click.option("--pq-subvectors", type=int, default=None,
              help="pq: bytes per row; must divide the dimension. [default: dim / 2]")
@click.option("--qnorm", is_flag=True, default=False,
              help="pq: store each row's length apart in one byte (fastText's -qnorm).")
@click.option("--keep-words", type=int, default=None,
              help="Keep only the N most frequent words (FastText: unseen words still get vectors).")
@click.option("--keep-ngrams", type=int, default=None,
              help="FastText: keep only the N n-gram rows the most vocabulary words use "
                   "(a dropped one reads as its initial value).")
@click.option("--pq-rotation", type=click.Choice(PQ_ROTATIONS), default=None,
              help="pq: rotate the rows before PQ: random, or learnt (opq). "
                   f"[default: {DEFAULT_PQ_ROTATION}]")
@click.option("--pq-iterations", type=int, default=None,
              help=f"pq: k-means rounds per subvector. [default: {PQ_NITER}]")
@click.option("--seed", type=int, default=None, help=f"pq: seed of the k-means sampling. [default: {DEFAULT_SEED}]")
@verbosity_options
@handle_errors
def compress_command(model: str, output: str, method: str, pq_subvectors: int | None, qnorm: bool,
                     keep_words: int | None, keep_ngrams: int | None, pq_rotation: str | None,
                     pq_iterations: int | None, seed: int | None) -> None:
    """Write OUT, MODEL with its vectors compressed; eval, similar, analogy, vectors, export
    and embedtrain.load read it, decoding rows on demand."""
    from pathlib import Path

    from ..models import compress

    small = compress(model, output, method, pq_subvectors, keep_words, qnorm, seed, keep_ngrams,
                     pq_rotation, pq_iterations)
    before, after = Path(model).stat().st_size, Path(output).stat().st_size
    log.info("wrote %s: %s words, %s, %s bytes (%s: %s bytes, %.1fx smaller)", output,
             f"{len(small.vocab):,}", method, f"{after:,}", model, f"{before:,}", before / max(after, 1))
