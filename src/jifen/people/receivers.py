"""People's reactions to what other apps announce."""

from __future__ import annotations

from typing import Any

from jifen.people.services import end_every_sign_in


def end_sign_ins_after_restore(sender: Any, result: Any, keep_sign_ins: bool,
                               **kwargs: Any) -> None:
    """A restored backup may hold sessions and tokens ended since it was taken: end every
    one (``jifen restore --keep-sign-ins`` keeps them)."""
    if not keep_sign_ins:
        end_every_sign_in()
        result.sign_ins_ended = True
