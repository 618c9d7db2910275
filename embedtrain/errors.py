"""The one exception type the library raises for bad input.

The CLI turns an :class:`EmbedtrainError` into a one-line message and a non-zero
exit status; anything else escaping the library is a bug in embedtrain.
"""


class EmbedtrainError(Exception):
    """Bad input or an unusable setting, explained in one line for the user."""


class ConfigError(EmbedtrainError, ValueError):
    """An invalid option value or configuration file."""


class TrainingInterrupted(EmbedtrainError):
    """Training was stopped (Ctrl-C); nothing was written."""
