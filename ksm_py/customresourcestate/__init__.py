"""Custom Resource State metrics (``--custom-resource-state-config[-file]``), as upstream's
``pkg/customresourcestate``: families declared in YAML over any custom resource whose CRD is
served, discovered and followed at runtime."""

from __future__ import annotations

from .config import ConfigError, ResourceConfig, compile_resource, parse
from .discovery import CustomResourceState, load_config

__all__ = ["ConfigError", "CustomResourceState", "ResourceConfig", "compile_resource", "load_config", "parse"]
