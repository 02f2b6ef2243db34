"""The library's models: resources and what is bought (``resources``), check-in, comments,
ratings and shares (``engagement``)."""

from jifen.library.models.engagement import *  # noqa: F403
from jifen.library.models.resources import *  # noqa: F403
