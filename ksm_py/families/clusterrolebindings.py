"""rbac.authorization.k8s.io/v1 ClusterRoleBinding (KSM ``internal/store/clusterrolebinding.go``)."""

from __future__ import annotations

from ._dsl import NAME, Resource
from ._rbac import binding_info, rbac_families

clusterrolebindings = Resource("clusterrolebindings", group="rbac.authorization.k8s.io", version="v1",
                               kind="ClusterRoleBinding", namespaced=False,
                               identity=[("clusterrolebinding", NAME)], default=False)
rbac_families(clusterrolebindings, "clusterrolebinding", info_help="Information about clusterrolebinding.",
              info_fn=binding_info,
              resource_version_help="Resource version representing a specific version of the clusterrolebinding.")
