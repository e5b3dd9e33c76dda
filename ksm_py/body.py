"""The one type of a Kubernetes object in ksm-py: the raw JSON mapping, never a client model."""

from __future__ import annotations

from typing import Any, Mapping

Body = Mapping[str, Any]
