"""The few exception types recsys raises for a user's mistake.

Each message is one line that says what is wrong and where (file, row, column, value), so the
CLI can print it as it is and the API can return it in a JSON body.
"""


class RecsysError(Exception):
    """Base class of every error recsys raises on purpose."""


class DataError(RecsysError, ValueError):
    """An order file, column, row or value that cannot be used."""


class ParameterError(RecsysError, ValueError):
    """A parameter outside its allowed range or of the wrong form."""


class ArtifactError(RecsysError):
    """A model directory that is missing, partial, corrupted or incompatible."""


class NotFittedError(RecsysError, AttributeError):
    """A model used before `fit`."""
