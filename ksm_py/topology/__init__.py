"""The cluster topology (StackState's components and relations) as metrics and as ``/topology``."""
