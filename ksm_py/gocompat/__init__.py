"""Go semantics kube-state-metrics' output depends on, each reproduced once: numbers
(``floats``), time (``times``), ``resource.Quantity`` (``quantity``) and go-cron (``cron``).

Nothing here knows about Kubernetes objects or metrics; families and Custom Resource State
import from here.
"""
