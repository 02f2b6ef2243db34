"""The activities API: lotteries, auctions and what they share, one router mounted by
``jifen.api``."""

from ninja import Router

from jifen.activities.api import auction, centre, lottery

router = Router()
router.add_router("", centre.router)
router.add_router("", lottery.router)
router.add_router("", auction.router)
