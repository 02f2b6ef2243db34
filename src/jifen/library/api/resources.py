"""Library API: the resources part."""

from ninja import Router

router = Router(tags=["library"])
