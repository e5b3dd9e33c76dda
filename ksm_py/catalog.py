"""``ksm-py families``: every resource and metric family, from the family modules themselves.

The README's "Resources and metric families" section is this command's markdown output
(``ksm-py families --format=markdown``); a test keeps the two in sync.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from typing import Sequence

from .families import RESOURCES
from .families._dsl import Family, Resource
from .metric import STABLE
from .readme import replace_section, section


@dataclasses.dataclass(frozen=True)
class Row:
    resource: str
    family: str
    type: str
    stability: str
    labels: tuple[str, ...]
    exposed: str  # "default", "opt-in" (--metric-opt-in-list) or "allowlist" (--metric-*-allowlist)
    resource_default: bool
    help: str


def _exposed(resource: Resource, family: Family) -> str:
    if family.opt_in:
        return "opt-in"
    if family.labels is not None and resource.supports_allowlists and any(
            label in ("label_*", "annotation_*") for label in family.labels):
        return "allowlist"
    return "default"


def rows() -> list[Row]:
    out = []
    for name in sorted(RESOURCES):
        r = RESOURCES[name]
        for f in r.families:
            out.append(Row(name, f.name, f.type, "STABLE" if f.stability == STABLE else "EXPERIMENTAL",
                           (*r.identity_label_names, *(f.labels or ())), _exposed(r, f), r.default, f.help))
    return out


def render_json(data: Sequence[Row]) -> str:
    return json.dumps([dataclasses.asdict(r) | {"labels": list(r.labels)} for r in data], indent=2) + "\n"


def render_table(data: Sequence[Row]) -> str:
    head = ("RESOURCE", "FAMILY", "TYPE", "STABILITY", "EXPOSED", "LABELS")
    body = [(r.resource + ("" if r.resource_default else " (*)"), r.family, r.type, r.stability, r.exposed,
             ",".join(r.labels)) for r in data]
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
             for row in (head, *body)]
    lines.append("(*) not in the default --resources set")
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _md(labels: Sequence[str]) -> str:
    return ", ".join(f"`{label}`" for label in labels)


def render_markdown(data: Sequence[Row]) -> str:
    resources = sorted({r.resource for r in data})
    by_resource = {name: [r for r in data if r.resource == name] for name in resources}
    out = ["| resource | API | scope | default | identity labels | families |", "|---|---|---|---|---|---|"]
    for name in resources:
        r = RESOURCES[name]
        out.append(f"| `{name}` | {r.api_version} {r.kind} | {'namespaced' if r.namespaced else 'cluster'} "
                   f"| {'yes' if r.default else 'no'} | {_md(r.identity_label_names)} | {len(by_resource[name])} |")
    out += ["", f"{len(data)} families in {len(resources)} resources. *exposed*: `default` = always, "
            "`allowlist` = series only for resources in `--metric-labels-allowlist` / "
            "`--metric-annotations-allowlist`, `opt-in` = needs `--metric-opt-in-list`. Labels in emission "
            "order, the identity labels first; `label_*` stands for the allowlisted labels.", ""]
    out += ["| resource | family | type | stability | exposed | labels |", "|---|---|---|---|---|---|"]
    for row in data:
        out.append(f"| `{row.resource}` | `{row.family}` | {row.type} | {row.stability} | {row.exposed} "
                   f"| {_md(row.labels)} |")
    return "\n".join(out) + "\n"


RENDERERS = {"table": render_table, "markdown": render_markdown, "json": render_json}


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="ksm-py families", description=(
        "List every resource's metric families: type, stability, labels, and whether they are exposed by "
        "default, need --metric-opt-in-list, or an allowlist entry."))
    parser.add_argument("--format", choices=sorted(RENDERERS), default="table", help="output format (default: table)")
    parser.add_argument("--resource", action="append", default=[], help="only these resources (repeatable)")
    args = parser.parse_args(argv)
    unknown = [r for r in args.resource if r not in RESOURCES]
    if unknown:
        parser.exit(2, f"ksm-py families: error: --resource: unknown resource(s) {', '.join(unknown)}\n")
    data = [r for r in rows() if not args.resource or r.resource in args.resource]
    print(RENDERERS[args.format](data), end="")
    return 0


BEGIN, END = "<!-- families:begin -->", "<!-- families:end -->"


def readme_section(text: str) -> str:
    return section(text, BEGIN, END)


def update_readme(path: str) -> bool:
    """Rewrite the generated table of ``path``; True when it changed."""
    return replace_section(path, BEGIN, END, render_markdown(rows()))
