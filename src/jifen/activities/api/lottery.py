"""Activities API: the lottery part."""

from ninja import Router

router = Router(tags=["activities"])
