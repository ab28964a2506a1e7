"""The SVG flowchart: well-formed, escaped, highlighting one walk's path."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pathways import engine, flowchart

SVG = "{http://www.w3.org/2000/svg}"

GASTRINOMA_HEAD = {
    "suspected_syndrome": "gastrinoma",
    "functional_status": "gastrinoma",
    "disease_extent": "localized",
    "tumor_size_cm": 0.6,
    "tumor_location": "head",
}
METASTATIC_G12 = {
    "suspected_syndrome": "none",
    "functional_status": "nonfunctioning",
    "disease_extent": "metastatic",
    "ki67_percent": 10,
    "liver_metastases": "none",
    "sstr_status": "negative",
    "progressive": False,
}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def classes(element: ET.Element) -> set[str]:
    return set((element.get("class") or "").split())


def nodes_by_slug(root: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-node"): g for g in root.iter(f"{SVG}g") if g.get("data-node")}


def edges_by_pair(root: ET.Element) -> dict[tuple[str, str], ET.Element]:
    return {
        (g.get("data-source"), g.get("data-target")): g for g in root.iter(f"{SVG}g") if g.get("data-source")
    }


def walk(snapshot: engine.Snapshot, answers: dict[str, Any]) -> tuple[engine.Evaluation, ET.Element]:
    result = engine.evaluate(snapshot, answers)
    svg = flowchart.render(snapshot, evaluation=result, answers=answers, node_href=lambda s: f"/step/{s}/")
    return result, parse(svg)


def test_plain_chart_is_well_formed_svg_with_every_node_and_stage_band(snapshot: engine.Snapshot) -> None:
    root = parse(flowchart.render(snapshot))
    assert root.tag == f"{SVG}svg"
    assert set(nodes_by_slug(root)) == set(snapshot.nodes)
    bands = [g for g in root.iter(f"{SVG}g") if "fc-band" in classes(g)]
    assert [next(b.iter(f"{SVG}text")).text for b in bands] == [
        "Workup",
        "Imaging",
        "Pathology",
        "Management",
    ]
    assert not [g for g in root.iter(f"{SVG}g") if classes(g) & {"on-path", "ruled-out", "current"}]


def test_walked_nodes_and_edges_are_on_path_and_others_are_not(snapshot: engine.Snapshot) -> None:
    result, root = walk(snapshot, GASTRINOMA_HEAD)
    nodes = nodes_by_slug(root)
    on_path = {slug for slug, g in nodes.items() if "on-path" in classes(g)}
    assert on_path == set(result.path)
    edges = edges_by_pair(root)
    walked = {pair for pair, g in edges.items() if "on-path" in classes(g)}
    assert walked == {(d.node, d.edge.target) for d in result.trace}
    assert "current" in classes(nodes["gastrinoma_head"])
    assert [slug for slug, g in nodes.items() if "current" in classes(g)] == ["gastrinoma_head"]


def test_branches_ruled_out_by_the_answers_are_greyed_but_open_ones_are_not(
    snapshot: engine.Snapshot,
) -> None:
    _, root = walk(snapshot, GASTRINOMA_HEAD)
    nodes = nodes_by_slug(root)
    for slug in ("biochem_general", "insulinoma_sstr", "ki67", "observation", "surgery_gastrinoma_duodenal"):
        assert "ruled-out" in classes(nodes[slug]), slug
    for slug in ("surgery_gastrinoma_head_enucleation", "surgery_gastrinoma_head_pancreatoduodenectomy"):
        assert not classes(nodes[slug]) & {"ruled-out", "on-path"}, slug
    assert "ruled-out" in classes(edges_by_pair(root)[("syndrome", "biochem_general")])


def test_two_walks_highlight_different_paths(snapshot: engine.Snapshot) -> None:
    _, first = walk(snapshot, GASTRINOMA_HEAD)
    result, second = walk(snapshot, METASTATIC_G12)
    assert result.outcome == "advanced_g12_surveillance"
    one = {s for s, g in nodes_by_slug(first).items() if "on-path" in classes(g)}
    two = {s for s, g in nodes_by_slug(second).items() if "on-path" in classes(g)}
    assert "ki67" in two - one and "location" in one - two
    outcome = nodes_by_slug(second)["advanced_g12_surveillance"]
    assert {"on-path", "current"} <= classes(outcome)


def test_walked_question_nodes_link_to_their_step_and_nothing_else_links(snapshot: engine.Snapshot) -> None:
    result, root = walk(snapshot, GASTRINOMA_HEAD)
    linked = {}
    for slug, g in nodes_by_slug(root).items():
        for a in g.iter(f"{SVG}a"):
            linked[slug] = a.get("href")
    questions = {s for s in result.path if snapshot.nodes[s].kind == engine.QUESTION}
    assert linked == {slug: f"/step/{slug}/" for slug in questions}


def test_answers_show_on_walked_nodes(snapshot: engine.Snapshot) -> None:
    _, root = walk(snapshot, GASTRINOMA_HEAD)
    size = nodes_by_slug(root)["size"]
    assert "0.6 cm" in [t.text for t in size.iter(f"{SVG}text")]


def test_faulty_nodes_are_marked(snapshot: engine.Snapshot) -> None:
    root = parse(flowchart.render(snapshot, faulty={"size", "ki67"}))
    marked = {s for s, g in nodes_by_slug(root).items() if "faulty" in classes(g)}
    assert marked == {"size", "ki67"}


def test_no_recommendation_codes_in_the_chart(snapshot: engine.Snapshot) -> None:
    _, root = walk(snapshot, GASTRINOMA_HEAD)
    assert not [e for e in root.iter() if "data-code" in e.attrib]


def test_titles_and_slugs_from_content_are_escaped(snapshot: engine.Snapshot) -> None:
    hostile = '<script>alert("x")</script> & </text><a href="javascript:1">'
    nodes = dict(snapshot.nodes)
    nodes["size"] = dataclasses.replace(nodes["size"], title=hostile)
    broken = dataclasses.replace(snapshot, nodes=MappingProxyType(nodes), title="A & <b>B</b>")
    svg = flowchart.render(broken, evaluation=engine.evaluate(broken, {}), node_href=lambda s: '/"x"?a=1&b=2')
    root = parse(svg)
    assert "<script>" not in svg and "javascript:" not in "".join(
        a.get("href", "") for a in root.iter(f"{SVG}a")
    )
    texts = "".join(t.text or "" for t in root.iter(f"{SVG}tspan"))
    assert "<script>" in texts  # shown as text, not markup
    assert root.find(f"{SVG}title").text.endswith("“A & <b>B</b>”, version 1")
    assert [a.get("href") for a in root.iter(f"{SVG}a")] == ['/"x"?a=1&b=2']


def test_layout_is_cached_per_graph_and_highlighting_does_not_change_it(snapshot: engine.Snapshot) -> None:
    first = flowchart.layout(snapshot)
    walk(snapshot, GASTRINOMA_HEAD)
    assert flowchart.layout(snapshot) is first
    renamed = dict(snapshot.nodes)
    renamed["size"] = dataclasses.replace(renamed["size"], title="Size")
    assert flowchart.layout(dataclasses.replace(snapshot, nodes=MappingProxyType(renamed))) is not first


def test_edges_point_down_and_nodes_do_not_overlap(snapshot: engine.Snapshot) -> None:
    drawn = flowchart.layout(snapshot)
    boxes = list(drawn.boxes.values())
    for node in snapshot.nodes.values():
        for edge in node.edges:
            assert drawn.boxes[edge.target].y > drawn.boxes[node.slug].y, (node.slug, edge.target)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = (
                a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y
            )
            assert apart, (a.slug, b.slug)


def test_a_broken_draft_with_a_cycle_still_draws(snapshot: engine.Snapshot) -> None:
    nodes = dict(snapshot.nodes)
    back = engine.Edge(source="size", target="syndrome", order=99)
    nodes["size"] = dataclasses.replace(nodes["size"], edges=(*nodes["size"].edges, back))
    broken = dataclasses.replace(snapshot, nodes=MappingProxyType(nodes))
    root = parse(flowchart.render(broken, faulty={"size"}))
    assert ("size", "syndrome") in edges_by_pair(root)


def test_long_titles_are_wrapped_and_cut() -> None:
    lines = flowchart._wrap("word " * 60)
    assert len(lines) == flowchart.MAX_LINES and lines[-1].endswith("…")


def imports_of(module: str) -> set[str]:
    """The modules ``module`` imports, relative imports resolved against its package."""
    found = importlib.import_module(module)
    package = found.__package__ or ""
    imported = set()
    for node in ast.walk(ast.parse(Path(found.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
            imported.update({base} | {f"{base}.{alias.name}" for alias in node.names})
    return imported


def test_layout_and_highlighting_are_pure_python_and_only_the_svg_module_uses_django() -> None:
    for module in ("pathways.flowchart.layout", "pathways.flowchart.highlight"):
        imported = imports_of(module)
        assert not any(name.split(".")[0] == "django" for name in imported), module
        assert all(
            not name.startswith("pathways.") or name.startswith("pathways.engine") for name in imported
        )
    assert any(name.startswith("django.") for name in imports_of("pathways.flowchart.svg"))
