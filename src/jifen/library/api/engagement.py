"""Library API: the engagement part."""

from ninja import Router

router = Router(tags=["library"])
