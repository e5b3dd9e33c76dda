"""rbac.authorization.k8s.io/v1 Role (KSM ``internal/store/role.go``)."""

from __future__ import annotations

from ._dsl import NAME, NAMESPACE, Resource
from ._rbac import info, rbac_families

roles = Resource("roles", group="rbac.authorization.k8s.io", version="v1", kind="Role", namespaced=True,
                 identity=[("namespace", NAMESPACE), ("role", NAME)], default=False)
rbac_families(roles, "role", info_help="Information about role.", info_fn=info,
              resource_version_help="Resource version representing a specific version of the role.")
