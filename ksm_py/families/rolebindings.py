"""rbac.authorization.k8s.io/v1 RoleBinding (KSM ``internal/store/rolebinding.go``)."""

from __future__ import annotations

from ._dsl import NAME, NAMESPACE, Resource
from ._rbac import binding_info, rbac_families

rolebindings = Resource("rolebindings", group="rbac.authorization.k8s.io", version="v1", kind="RoleBinding",
                        namespaced=True, identity=[("namespace", NAMESPACE), ("rolebinding", NAME)], default=False)
rbac_families(rolebindings, "rolebinding", info_help="Information about rolebinding.", info_fn=binding_info,
              resource_version_help="Resource version representing a specific version of the rolebinding.")
