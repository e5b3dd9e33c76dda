"""The object-to-shard assignment must be upstream's exactly (mixed ksm-py / kube-state-metrics fleets)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest

from ksm_py.sharding import ShardState, fnv1a64, jump_hash, shard_of


def test_upstream_vector() -> None:
    # pkg/sharding/listwatch_test.go: uid "test_uid" with 2 shards belongs to shard 0.
    assert shard_of("test_uid", 2) == 0
    obj = {"metadata": {"name": "configmap1", "namespace": "ns1", "uid": "test_uid"}}
    assert ShardState(0, 2).keep(obj)
    assert not ShardState(1, 2).keep(obj)


def test_fnv1a64() -> None:
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C
    assert fnv1a64(b"foobar") == 0x85944171F73967E8


def test_one_shard_keeps_everything() -> None:
    assert ShardState(0, 1).keep({"metadata": {}})
    assert all(shard_of(str(uuid.uuid4()), 1) == 0 for _ in range(100))


@pytest.mark.parametrize("total", [2, 3, 7])
def test_distribution_is_even(total: int) -> None:
    uids = [str(uuid.UUID(int=i * 2654435761 + 12345)) for i in range(12000)]
    counts = Counter(shard_of(u, total) for u in uids)
    assert sorted(counts) == list(range(total))
    expected = len(uids) / total
    assert all(abs(n - expected) < 0.06 * expected for n in counts.values()), counts


def test_every_object_has_exactly_one_shard() -> None:
    for i in range(2000):
        obj = {"metadata": {"uid": f"uid-{i}"}}
        assert sum(ShardState(s, 3).keep(obj) for s in range(3)) == 1


def test_growing_the_fleet_only_moves_objects_to_the_new_shard() -> None:
    # The jump hash's consistency: from n to n+1 shards, about 1/(n+1) of the keys move, all to shard n.
    keys = [fnv1a64(f"uid-{i}".encode()) for i in range(8000)]
    for n in (1, 2, 5):
        moved = [(jump_hash(k, n), jump_hash(k, n + 1)) for k in keys]
        changed = [(a, b) for a, b in moved if a != b]
        assert all(b == n for _, b in changed)
        assert abs(len(changed) / len(keys) - 1 / (n + 1)) < 0.02
