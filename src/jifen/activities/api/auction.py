"""Activities API: the auction part."""

from ninja import Router

router = Router(tags=["activities"])
