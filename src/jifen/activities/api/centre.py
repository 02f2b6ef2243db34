"""Activities API: the centre part."""

from ninja import Router

router = Router(tags=["activities"])
