"""Console actions of the activities app → their API twins (see test_console_parity.py)."""

TWINS: dict[str, list[str]] = {
    "activities_announce": ["POST /activities/{kind}/{activity_id}/announce"],
    "activities_auction?action=cancel": ["POST /auctions/{auction_id}/cancel"],
    "activities_auction_new?action=save": ["POST /auctions"],
    "activities_lottery?action=cancel": ["POST /lotteries/{lottery_id}/cancel"],
    "activities_lottery?action=draw": ["POST /lotteries/{lottery_id}/draw"],
    "activities_lottery_new?action=save": ["POST /lotteries"],
    "activities_lottery_new?action=publish": ["POST /lotteries",
                                              "POST /lotteries/{lottery_id}/publish"],
}

NO_API: dict[str, str] = {}
