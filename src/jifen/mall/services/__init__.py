"""Mall writers (being split by subdomain; see the modules of this package)."""

from jifen.mall.services.orders import *  # noqa: F403
from jifen.mall.services.orders import _move  # noqa: F401
