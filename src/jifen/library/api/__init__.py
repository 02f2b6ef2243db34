"""The library API: resources and engagement, one router mounted by ``jifen.api``."""

from ninja import Router

from jifen.library.api import engagement, resources

router = Router()
router.add_router("", resources.router)
router.add_router("", engagement.router)
