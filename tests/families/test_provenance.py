"""Every family table test says where its expected text comes from (upstream's test file, or the
upstream binary), in its module docstring."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ksm_py.families import RESOURCES

HERE = Path(__file__).parent


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_table_test_states_its_provenance(resource: str) -> None:
    path = HERE / f"test_{resource}.py"
    assert path.exists(), f"{resource} has no table test"
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert "upstream" in doc.lower(), f"{path.name}: the docstring does not say where the expected text comes from"
