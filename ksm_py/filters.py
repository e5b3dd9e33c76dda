"""Which families are served: kube-state-metrics' metric allow/deny/opt-in lists."""

from __future__ import annotations

import re
from typing import Callable

from .families._dsl import Family
from .options import Options


def family_filter(options: Options) -> Callable[[Family], bool]:
    """KSM's family filter: unanchored regex search; opt-in families need --metric-opt-in-list."""
    allow = [re.compile(p) for p in options.metric_allowlist]
    deny = [re.compile(p) for p in options.metric_denylist]
    opt_in = [re.compile(p) for p in options.metric_opt_in_list]

    def enabled(f: Family) -> bool:
        if f.opt_in and not any(p.search(f.name) for p in opt_in):
            return False
        if allow:
            return any(p.search(f.name) for p in allow)
        return not any(p.search(f.name) for p in deny)
    return enabled
