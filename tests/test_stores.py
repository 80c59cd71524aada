"""StoreRegistry: one instance per key, per event loop when asked, and nothing kept
for a loop that has closed."""

import asyncio
import gc

from chat.stores import StoreRegistry


class Thing:
    pass


def _in_new_loop(registry, key="k"):
    async def get():
        return registry.get(key, Thing)

    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(get()), loop
    finally:
        loop.close()


def test_a_shared_registry_builds_once_per_key():
    registry = StoreRegistry(per_loop=False)
    first = registry.get("a", Thing)
    assert registry.get("a", Thing) is first
    second = registry.get("b", Thing)
    assert second is not first
    assert registry.forget() == [first, second]
    assert registry.get("a", Thing) is not first


def test_each_loop_gets_its_own_instance():
    registry = StoreRegistry(per_loop=True)
    one, _ = _in_new_loop(registry)
    two, _ = _in_new_loop(registry)
    assert one is not two


def test_a_closed_loops_instances_are_dropped():
    registry = StoreRegistry(per_loop=True)
    _in_new_loop(registry)
    _in_new_loop(registry)
    gc.collect()
    assert len(registry._loops) <= 1  # the last loop's, until another loop asks


async def test_forget_returns_the_running_loops_instances():
    registry = StoreRegistry(per_loop=True)
    first = registry.get("k", Thing)
    assert registry.get("k", Thing) is first
    assert registry.forget() == [first]
    assert registry.get("k", Thing) is not first
