"""Object-to-shard assignment identical to kube-state-metrics (so mixed fleets agree).

FNV-1a 64 over the UID, then Lamping-Veach jump consistent hashing (``pkg/sharding``).
"""

from __future__ import annotations

from typing import Any, Mapping

_MASK = 0xFFFFFFFFFFFFFFFF


def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & _MASK
    return h


def jump_hash(key: int, buckets: int) -> int:
    b, j = -1, 0
    while j < buckets:
        b = j
        key = (key * 2862933555777941757 + 1) & _MASK
        j = int(float(b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


def shard_of(uid: str, total: int) -> int:
    return jump_hash(fnv1a64(uid.encode()), total)


class ShardState:
    """The current assignment; mutable because auto-sharding follows the StatefulSet's replicas."""

    def __init__(self, shard: int, total: int) -> None:
        self.shard, self.total = shard, total

    def keep(self, obj: Mapping[str, Any]) -> bool:
        # One shard: everything (upstream bypasses the sharded list/watch entirely).
        if self.total <= 1:
            return True
        return shard_of(str((obj.get("metadata") or {}).get("uid") or ""), self.total) == self.shard
