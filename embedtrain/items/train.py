"""Item vectors (item2vec) from an interaction file or a sequence file, through the one
entry path (api.py).

Settings are layered as for graphs: the model's defaults, then its family's item presets
(``Family.item_presets``; word2vec's are measured, docs/items.md), then a TOML file, then the
arguments given.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import EmbedtrainError
from .interactions import DEFAULT_MIN_ITEMS, sessions_from_file

if TYPE_CHECKING:
    from ..config import CommonConfig
    from ..models import Model

# Options of the interaction reader and the sessions (not model settings).
READ_OPTIONS = ("user_col", "item_col", "rating_col", "time_col", "min_rating", "session_gap",
                "min_items", "sequences")


def item_config(model: str | None = None, config_file: str | None = None, **settings: Any
                ) -> "CommonConfig":
    """The model settings for items: the family's item presets under the file and the arguments."""
    from ..config import load_toml, make_config
    from ..families import DEFAULT_MODEL, family_of, item_models

    from_file = load_toml(config_file) if config_file else {}
    chosen = model or from_file.pop("model", None) or DEFAULT_MODEL
    from_file.pop("model", None)
    if chosen not in item_models():
        raise EmbedtrainError(f"items train with --model {' or '.join(item_models())}, not {chosen}")
    explicit = {**from_file, **{k: v for k, v in settings.items() if v is not None}}
    presets = dict(family_of(chosen).item_presets)
    if chosen != "skipgram":
        presets.pop("shared_negatives", None)
    presets = {k: v for k, v in presets.items() if k not in explicit}
    if explicit.get("hs") and "negative" not in explicit:
        presets.pop("negative", None)
    return make_config(chosen, None, **{**presets, **explicit})


@dataclass(frozen=True)
class ItemPlan:
    """A checked item run, ready to :meth:`run`: settings built, nothing read yet."""

    path: str
    config: "CommonConfig"
    read: dict[str, Any]
    progress: bool
    tmp_dir: str | None
    save_vocab: str | None
    tune: str | None = None          # a validation sequence file: tune the settings on it first
    tune_budget: int | None = None

    def run(self) -> "Model":
        import dataclasses

        from ..api import plan
        from ..corpus.fingerprint import file_record

        sequences = sessions_from_file(self.path, **self.read)
        config, tuning = self.config, None
        if self.tune is not None:
            best, trials = self._tune(sequences)
            config = dataclasses.replace(config, **best)
            tuning = {"validation": self.tune, "best": best, "trials": trials}
        fitted = plan(sequences, config=config, progress=self.progress, tmp_dir=self.tmp_dir,
                      save_vocab=self.save_vocab).run()
        if tuning is not None:
            fitted.stats["item_tuning"] = tuning
        fitted.stats.update(item_sequences=len(sequences),
                            item_reading={k: v for k, v in self.read.items() if v is not None})
        lineage = fitted.stats.get("lineage")
        if lineage:   # name the file read, so eval-items can check a split (items/split.py)
            lineage[-1]["corpus"] = {"files": [file_record(self.path)],
                                     "source": "item sequences" if self.read.get("sequences")
                                     else "sessions of the interaction file"}
        return fitted

    def _tune(self, sequences: list[list[str]]):
        """A coordinate search (items/tune.py) training on ``sequences`` and scoring NDCG@10 on
        the validation file's last items; refused when the validation file belongs to a split
        whose training file is not the one trained on (its targets would be in training)."""
        import dataclasses

        from ..api import plan
        from ..corpus.fingerprint import file_record
        from .evaluate import evaluate_items
        from .interactions import read_sequences
        from .split import check_split
        from .tune import DEFAULT_TUNE_BUDGET, TUNE_GRID, coordinate_search

        validation = read_sequences(self.tune)
        check_split(self.tune, [], [{"corpus": {"files": [file_record(self.path)]}}])
        grid = {k: v for k, v in TUNE_GRID.items() if hasattr(self.config, k)}
        base = {k: getattr(self.config, k) for k in grid}

        def score(settings):
            config = dataclasses.replace(self.config, **settings)
            model = plan(sequences, config=config, progress=False, tmp_dir=self.tmp_dir).run()
            return evaluate_items(model, validation, popular_from=sequences)["ndcg@10"]

        return coordinate_search(score, base, grid, self.tune_budget or DEFAULT_TUNE_BUDGET)


def plan_items(path: str | os.PathLike, model: str | None = None, *, config_file: str | None = None,
               progress: bool = True, tmp_dir: str | None = None, save_vocab: str | None = None,
               user_col: str | int | None = None, item_col: str | int | None = None,
               rating_col: str | int | None = None, time_col: str | int | None = None,
               min_rating: float | None = None, session_gap: float | str | None = None,
               min_items: int | None = None, sequences: bool = False, tune: str | os.PathLike | None = None,
               tune_budget: int | None = None, **settings: Any) -> ItemPlan:
    """Build and check an item run (see :func:`train_items`)."""
    from ..api import check_tmp_dir
    from .interactions import parse_duration

    name = os.fspath(path)
    if not os.path.isfile(name):
        raise EmbedtrainError(f"interaction file {name} does not exist" if not os.path.exists(name)
                              else f"interaction file {name} is not a file")
    if session_gap is not None:
        parse_duration(session_gap)
    if min_items is not None and min_items < 1:
        raise EmbedtrainError(f"--min-items must be at least 1 (got {min_items})")
    config = item_config(model, config_file, **settings)
    check_tmp_dir(tmp_dir)
    read = dict(user_col=user_col, item_col=item_col, rating_col=rating_col, time_col=time_col,
                min_rating=min_rating, session_gap=session_gap,
                min_items=DEFAULT_MIN_ITEMS if min_items is None else min_items, sequences=sequences)
    if tune is not None and not os.path.isfile(os.fspath(tune)):
        raise EmbedtrainError(f"validation file {os.fspath(tune)} does not exist")
    if tune_budget is not None and tune is None:
        raise EmbedtrainError("--tune-budget needs --tune")
    if tune_budget is not None and tune_budget < 1:
        raise EmbedtrainError(f"--tune-budget must be at least 1 (got {tune_budget})")
    return ItemPlan(name, config, read, progress, tmp_dir, save_vocab,
                    os.fspath(tune) if tune is not None else None, tune_budget)


def train_items(path: str | os.PathLike, model: str | None = None, **options: Any) -> "Model":
    """Item vectors (item2vec) from an interaction file (``user item [rating] [timestamp]``:
    :func:`~embedtrain.items.interactions.sessions_from_file` reads it, ``sequences=True`` for
    a file of one sequence a line) with the item presets under ``config_file`` and the
    settings given (``dim``, ``window``, ``ns_exponent``, ``epochs``, ``seed``, ...)."""
    return plan_items(path, model, **options).run()
