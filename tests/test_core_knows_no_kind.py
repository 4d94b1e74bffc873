"""The core never asks "is this Amazon?": no code under helpdesk/ compares a connector kind to a literal.

Behaviour sits behind the connector contract and its capabilities; a branch
on a kind in the core would have to be repeated for every platform added.
The check reads the code: any comparison (==, !=, in, not in) between
something named ``kind`` (a variable, an attribute, a column) and a
registered connector kind fails.  Naming a kind as data (the demo creates
accounts of given kinds) is fine; branching on it is not.
"""

from __future__ import annotations

import ast
from pathlib import Path

from channels import registry

CORE = Path(__file__).resolve().parent.parent / "helpdesk"


def _names_kind(node: ast.AST) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "kind"
    if isinstance(node, ast.Attribute):
        return node.attr == "kind"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "kind"
    return False


def _literal_strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def kind_comparisons(source: str, kinds: set[str]) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_names_kind(s) for s in sides):
                for side in sides:
                    found += [(node.lineno, lit) for lit in _literal_strings(side) if lit in kinds]
        is_in = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_"
        if is_in and _names_kind(node.func.value):  # type: ignore[attr-defined]
            for arg in node.args:  # type: ignore[attr-defined]
                found += [(node.lineno, lit) for lit in _literal_strings(arg) if lit in kinds]
    return found


def test_the_check_itself_finds_a_branch_on_a_kind() -> None:
    kinds = {"amazon", "ebay"}
    assert kind_comparisons("if account.kind == 'amazon':\n    pass\n", kinds) == [(1, "amazon")]
    assert kind_comparisons("q.where(ChannelAccount.kind.in_(['ebay']))\n", kinds) == [(1, "ebay")]
    assert kind_comparisons("q.where(ChannelAccount.kind.in_(kinds))\n", kinds) == []
    assert kind_comparisons("x = ChannelAccount(kind='ebay')\n", kinds) == []
    assert kind_comparisons("if clock.kind == 'first_response': pass\n", kinds) == []


def test_no_module_of_the_core_compares_a_kind_to_a_literal() -> None:
    offending = []
    kinds = set(registry.kinds())
    for path in sorted(CORE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for line, literal in kind_comparisons(path.read_text(encoding="utf-8"), kinds):
            offending.append(f"{path.relative_to(CORE.parent)}:{line} compares a kind to {literal!r}")
    assert offending == []


def test_every_shipped_kind_declares_its_whole_life() -> None:
    shipped = [registry.get(k) for k in registry.kinds() if registry.get(k).__module__.startswith("channels.")]
    assert shipped
    for cls in shipped:
        kind = cls.kind
        assert cls.title, f"{kind}: a title for people"
        assert cls.capabilities, f"{kind}: capabilities"
        assert cls.schema.fields, f"{kind}: a config schema"
