"""The OpenAPI document names each schema by its class name, so two request or answer
schemas with one name would describe one of them wrongly (clients generated from it, and
the fuzz gate, would then expect the other's fields)."""

from collections import defaultdict

from ninja import Schema

from jifen.api import api  # noqa: F401  (imports every router and its schemas)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_no_two_api_schemas_share_a_name():
    by_name: dict[str, set[str]] = defaultdict(set)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("jifen.") and "[" not in cls.__name__:
            by_name[cls.__name__].add(cls.__module__)
    shared = {name: sorted(modules) for name, modules in by_name.items() if len(modules) > 1}
    assert not shared, shared
