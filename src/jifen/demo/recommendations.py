"""Demo step: the nightly recommendation build, run once the company's history is in, so
the demo mall home and library show recommendations at once (not after the first night)."""

from __future__ import annotations

from jifen.demo.builder import DemoContext, demo_step
from jifen.insights.services import recommend, rollups


@demo_step(order=95, name="recommendations")
def build_recommendations(ctx: DemoContext) -> None:
    rollups.fold_pending()  # the leanings read the earning rollups
    result = recommend.build()
    ctx.created["recommendations"] = {"neighbours": result.neighbours,
                                      "tastes": result.tastes}
    ctx.log(f"    {result.neighbours} neighbours, {result.tastes} group tastes from "
            f"{result.signals} signals in {result.seconds:.1f}s")
