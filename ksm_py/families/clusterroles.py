"""rbac.authorization.k8s.io/v1 ClusterRole (KSM ``internal/store/clusterrole.go``)."""

from __future__ import annotations

from ._dsl import NAME, Resource
from ._rbac import info, rbac_families

clusterroles = Resource("clusterroles", group="rbac.authorization.k8s.io", version="v1", kind="ClusterRole",
                        namespaced=False, identity=[("clusterrole", NAME)], default=False)
rbac_families(clusterroles, "clusterrole", info_help="Information about cluster role.", info_fn=info,
              resource_version_help="Resource version representing a specific version of the cluster role.")
