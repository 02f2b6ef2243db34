"""The integrations' reactions to what other apps announce."""

from __future__ import annotations

from typing import Any

from jifen.integrations.selectors import active_api_key_count


def count_api_keys_after_restore(sender: Any, result: Any, **kwargs: Any) -> None:
    """Keys revoked after the backup are active again: `jifen restore` says how many keys
    are active so the operator revokes them again."""
    result.active_api_keys = active_api_key_count()
