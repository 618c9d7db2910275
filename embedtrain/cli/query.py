"""``embedtrain eval``, ``similar`` and ``analogy``: look at vectors from any supported file."""
from __future__ import annotations

import json
from typing import Any

import click

from ..evaluate import ANALOGY_METHODS, DEFAULT_RESTRICT_VOCAB, AnalogyResult, evaluate
from ..io.formats import READ_FORMATS, load_vectors
from ..neighbours import EXACT_BELOW
from ..vectors import UnknownWordError, Vectors
from .app import handle_errors, json_option, main, quiet, verbosity_options

format_option = click.option(
    "--format", "format_", type=click.Choice(READ_FORMATS), default=None,
    help="Format of VECTORS. [default: detected from the content]")
topn_option = click.option("-n", "--topn", type=click.IntRange(min=1), default=10, show_default=True,
                           help="Number of answers.")
vectors_argument = click.argument("vectors", type=click.Path(dir_okay=False))
mmap_option = click.option("--mmap", is_flag=True, default=False,
                           help="Memory-map a model file's weights instead of reading them "
                                "(instant start on big models; docs/memory.md).")
index_option = click.option("--index", "use_index", is_flag=True, default=False,
                            help="Approximate search through the index VECTORS.index (built and "
                                 "stored there when missing). Without it, an existing index is "
                                 f"used for vocabularies of {EXACT_BELOW:,} words or more.")
exact_option = click.option("--exact", is_flag=True, default=False,
                            help="Exact search even when an index is stored beside VECTORS.")


def _load(vectors: str, format_: str | None, mmap: bool, use_index: bool = False,
          exact: bool = False) -> Vectors:
    """The vectors, with their neighbour index attached when asked for (or present)."""
    if use_index and exact:
        from ..errors import EmbedtrainError

        raise EmbedtrainError("--index and --exact exclude each other")
    vecs = load_vectors(vectors, format_, mmap=mmap)
    if not exact:
        from ..neighbours import attach_index

        attach_index(vecs, vectors, build=use_index)
    return vecs


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=1))


def check_words(vectors: Vectors, words: list[str]) -> None:
    """Fail with one line naming every word that has no vector (and a case variant if any)."""
    missing = [w for w in words if not vectors.has_vector(w)]
    if not missing:
        return
    by_lower = {}
    for w in vectors.words:
        by_lower.setdefault(w.lower(), w)
    hints = [f"{w!r} (did you mean {by_lower[w.lower()]!r}?)" if w.lower() in by_lower else repr(w)
             for w in missing]
    noun = "word" if len(missing) == 1 else "words"
    raise UnknownWordError(f"{noun} {', '.join(hints)} not in the vocabulary of {len(vectors):,} words")


# ---------------------------------------------------------------------- eval
@main.command("eval", short_help="Score vectors on word-similarity and analogy benchmarks.")
@vectors_argument
@click.argument("datasets", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--restrict-vocab", type=click.IntRange(min=0), default=DEFAULT_RESTRICT_VOCAB,
              show_default=True,
              help="Analogies: only the N most frequent words are questions' words and answers "
                   "(0: all words).")
@click.option("--method", type=click.Choice(ANALOGY_METHODS), default="3cosadd", show_default=True,
              help="Analogy method.")
@click.option("--case-sensitive", is_flag=True, default=False,
              help="Match dataset words to the vocabulary with their case (default: ignore case; "
                   "the most frequent case variant stands for the others).")
@format_option
@mmap_option
@json_option
@verbosity_options
@handle_errors
def eval_command(vectors: str, datasets: tuple[str, ...], restrict_vocab: int, method: str,
                 case_sensitive: bool, format_: str | None, mmap: bool, as_json: bool) -> None:
    """Score VECTORS on word-similarity and analogy DATASETs (kind told from the content).

    With no DATASET: the Google analogies and WordSim-353, shipped with embedtrain.
    """
    vecs = load_vectors(vectors, format_, mmap=mmap)
    results = evaluate(vecs, list(datasets) or None, restrict_vocab=restrict_vocab or None,
                       method=method, case_sensitive=case_sensitive)
    if as_json:
        _echo_json({"vectors": vectors, "vocab_size": len(vecs), "dim": vecs.dim,
                    "results": [r.to_dict() for r in results]})
        return
    if quiet():
        return
    click.echo(f"{vectors}: {len(vecs):,} words, dim {vecs.dim}")
    for r in results:
        click.echo("")
        if isinstance(r, AnalogyResult):
            _print_analogy(r)
        else:
            rho = "n/a (fewer than 2 pairs found)" if r.spearman is None else f"{r.spearman:.4f}"
            click.echo(f"{r.dataset} (similarity): Spearman {rho}, {r.found:,} of {r.pairs:,} "
                       f"pairs found")


def _print_analogy(r: AnalogyResult) -> None:
    click.echo(f"{r.dataset} (analogy, {r.method}, {r.restrict_vocab:,} most frequent words)")
    width = max([len(name) for name in r.sections] + [len("all sections")])
    click.echo(f"  {'section':<{width}}  accuracy     found  questions")
    for name, s in r.sections.items():
        acc = f"{s.accuracy:8.4f}" if s.found else f"{'-':>8}"
        click.echo(f"  {name:<{width}}  {acc}  {s.found:>8,}  {s.questions:>9,}")
    click.echo(f"  {'all sections':<{width}}  {r.accuracy:8.4f}  {r.found:>8,}  {r.questions:>9,}")
    click.echo(f"  accuracy counting questions with unknown words as wrong: {r.accuracy_all:.4f}")


# ---------------------------------------------------------------------- similar
@main.command("similar", short_help="Nearest neighbours of words by cosine similarity.")
@vectors_argument
@click.argument("words", nargs=-1, required=True)
@topn_option
@format_option
@mmap_option
@index_option
@exact_option
@json_option
@verbosity_options
@handle_errors
def similar_command(vectors: str, words: tuple[str, ...], topn: int, format_: str | None,
                    mmap: bool, use_index: bool, exact: bool, as_json: bool) -> None:
    """Nearest neighbours of each WORD by cosine similarity."""
    vecs = _load(vectors, format_, mmap, use_index, exact)
    check_words(vecs, list(words))
    results = [(w, vecs.most_similar(w, topn=topn)) for w in words]
    if as_json:
        _echo_json({"vectors": vectors, "results": [
            {"word": w, "neighbours": [{"word": n, "similarity": s} for n, s in found]}
            for w, found in results]})
        return
    for i, (w, found) in enumerate(results):
        if i:
            click.echo("")
        click.echo(f"{w}:")
        _print_answers(found)


def _print_answers(answers: list[tuple[str, float]]) -> None:
    width = max([len(w) for w, _ in answers] + [1])
    for w, s in answers:
        click.echo(f"  {w:<{width}}  {s:.4f}")


# ---------------------------------------------------------------------- analogy
@main.command("analogy", short_help="Answers to A : B :: C : ? (3CosAdd or 3CosMul).")
@vectors_argument
@click.argument("a")
@click.argument("b")
@click.argument("c")
@topn_option
@click.option("--method", type=click.Choice(ANALOGY_METHODS), default="3cosadd", show_default=True,
              help="3cosadd: nearest to b - a + c; 3cosmul: Levy & Goldberg's multiplicative form.")
@format_option
@mmap_option
@index_option
@exact_option
@json_option
@verbosity_options
@handle_errors
def analogy_command(vectors: str, a: str, b: str, c: str, topn: int, method: str,
                    format_: str | None, mmap: bool, use_index: bool, exact: bool,
                    as_json: bool) -> None:
    """Best answers to A : B :: C : ?  (e.g. man king woman -> queen; 3cosadd uses the
    index when there is one, 3cosmul always scans every word)."""
    vecs = _load(vectors, format_, mmap, use_index, exact)
    check_words(vecs, [a, b, c])
    answers = vecs.analogy(a, b, c, topn=topn, method=method)
    if as_json:
        _echo_json({"vectors": vectors, "query": [a, b, c], "method": method,
                    "answers": [{"word": w, "score": s} for w, s in answers]})
        return
    click.echo(f"{a} : {b} :: {c} : ?  ({method})")
    _print_answers(answers)
