"""recsys: product recommendation and demand anticipation from order history alone."""

__version__ = "0.1.0"
