"""The SVG flowchart: well-formed, escaped, highlighting one walk's path."""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from pathways import engine, flowchart

layout_module = importlib.import_module("pathways.flowchart.layout")

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
    lines = flowchart.wrap("word " * 60)
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
    for module in ("pathways.flowchart.layout", "pathways.flowchart.labels", "pathways.flowchart.highlight"):
        imported = imports_of(module)
        assert not any(name.split(".")[0] == "django" for name in imported), module
        assert all(
            not name.startswith("pathways.")
            or name.startswith(("pathways.engine", "pathways.flowchart.labels"))
            for name in imported
        )
    assert any(name.startswith("django.") for name in imports_of("pathways.flowchart.svg"))


# -- the layout by Graphviz's dot, and the words on the chart ---------------------------------

HOSTILE = 'a"; n0 -> n1 [label="x"]; } digraph { \\N \\G \\l <b>bold</b>\n\x00\x1b end\\'


def test_dot_strings_read_back_as_exactly_the_text_they_quote() -> None:
    quoted = layout_module.dot_string(HOSTILE)
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    # Every quote and backslash of the content is escaped: nothing ends the string or starts an
    # escape sequence of dot's; control characters are gone; no HTML-like label.
    assert '"' not in inner.replace('\\"', "").replace("\\\\", "")
    assert "\x00" not in inner and "\x1b" not in inner
    graph = f"digraph g {{ a -> b [label={quoted}]; }}"
    drawn = layout_module.run_dot(graph)
    assert [o["name"] for o in drawn["objects"]] == ["a", "b"] and len(drawn["edges"]) == 1
    shown = [op["text"] for op in drawn["edges"][0]["_ldraw_"] if op["op"] == "T"]
    assert shown == ['a"; n0 -> n1 [label="x"]; } digraph { \\N \\G \\l <b>bold</b>', " end\\"]


def test_hostile_titles_and_labels_never_reach_the_dot_source_unescaped(snapshot: engine.Snapshot) -> None:
    variables = dict(snapshot.variables)
    size = variables["tumor_size_cm"]
    variables["tumor_size_cm"] = dataclasses.replace(size, unit=HOSTILE)
    nodes = dict(snapshot.nodes)
    nodes["size"] = dataclasses.replace(nodes["size"], title=HOSTILE)
    nodes["location"] = dataclasses.replace(nodes["location"], title=HOSTILE)
    broken = dataclasses.replace(
        snapshot, nodes=MappingProxyType(nodes), variables=MappingProxyType(variables)
    )
    source = layout_module.dot_source(broken)
    assert "label=<" not in source.text  # never an HTML-like label
    assert HOSTILE.splitlines()[0] not in source.text  # titles are drawn by us, never given to dot
    # dot reads the graph we meant: our boxes and arrows only, each criterion exactly as worded.
    parsed = layout_module.run_dot(source.text)
    names = {o["name"] for o in parsed["objects"]}
    assert names == set(source.ids.values()) | {f"b{n}" for n in set(source.band.values())}
    shown = {
        (e["tail"], e["head"]): "\n".join(op["text"] for op in e.get("_ldraw_", []) if op["op"] == "T")
        for e in parsed["edges"]
        if e.get("style") != "invis"
    }
    ids = {o["name"]: o["_gvid"] for o in parsed["objects"]}
    for (tail, head), lines in source.labels.items():
        assert shown[(ids[source.ids[tail]], ids[source.ids[head]])] == "\n".join(lines)
    assert any("<b>bold</b>" in "".join(lines) for lines in source.labels.values())
    drawn = flowchart.layout(broken)
    assert set(drawn.boxes) == set(broken.nodes)
    root = parse(flowchart.render(broken, evaluation=engine.evaluate(broken, {}), node_href=lambda s: "/s/"))
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}tspan"))
    assert "<b>bold</b>" in texts  # shown as text
    assert not [e for e in root.iter() if any(k.startswith(("on", "hx-", "style")) for k in e.attrib)]


def question_arrows(snapshot: engine.Snapshot) -> set[tuple[str, str]]:
    return {
        (node.slug, edge.target)
        for node in snapshot.nodes.values()
        if node.kind == engine.QUESTION
        for edge in node.edges
    }


@pytest.mark.parametrize("version", ["snapshot", "v2_snapshot"])
def test_every_arrow_out_of_a_question_carries_its_criterion(
    version: str, request: pytest.FixtureRequest
) -> None:
    snapshot = request.getfixturevalue(version)
    root = parse(flowchart.render(snapshot))
    labels = {
        pair: " ".join(t.text or "" for t in g.iter(f"{SVG}tspan")) for pair, g in edges_by_pair(root).items()
    }
    for pair in question_arrows(snapshot):
        assert labels[pair].strip(), pair
    assert labels[("size", "location")] == "Biochemical result: not Nonfunctioning"
    assert labels[("incidental", "observation")] == "Yes"
    assert labels[("syndrome", "biochem_insulinoma")] == "Insulinoma (hypoglycaemia)"
    assert labels[("ki67", "differentiation")] == "> 20 %"
    if version == "snapshot":
        assert labels[("size", "nf_large_resection")] == "> 2 cm; Biochemical result: Nonfunctioning"
    else:
        assert labels[("nf_differentiation", "nf_large_resection")] == "Tumour size: > 2 cm"


@pytest.mark.parametrize("version", ["snapshot", "v2_snapshot"])
def test_no_two_boxes_read_the_same(version: str, request: pytest.FixtureRequest) -> None:
    snapshot = request.getfixturevalue(version)
    root = parse(flowchart.render(snapshot))
    shown = {
        slug: " ".join(t.text or "" for t in g.iter(f"{SVG}tspan")) for slug, g in nodes_by_slug(root).items()
    }
    assert len(set(shown.values())) == len(shown) == len(snapshot.nodes)
    assert "Suspected syndrome: Insulinoma (hypoglycaemia)" in shown["biochem_insulinoma"]
    assert "Disease extent: Metastatic" in shown["met_sstr"]
    assert "Biochemical result: Insulinoma" in shown["insulinoma_sstr"]


def test_the_layout_is_reused_and_dot_runs_once_per_graph(
    snapshot: engine.Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    renamed = dict(snapshot.nodes)
    renamed["size"] = dataclasses.replace(renamed["size"], title="What size is it?")
    fresh = dataclasses.replace(snapshot, nodes=MappingProxyType(renamed))
    runs: list[str] = []
    real = layout_module.run_dot
    monkeypatch.setattr(layout_module, "run_dot", lambda source: runs.append(source) or real(source))
    first = flowchart.render(fresh, evaluation=engine.evaluate(fresh, {}))
    second = flowchart.render(
        fresh, evaluation=engine.evaluate(fresh, GASTRINOMA_HEAD), answers=GASTRINOMA_HEAD
    )
    assert len(runs) == 1 and first != second


def test_without_dot_the_chart_says_it_is_unavailable(
    snapshot: engine.Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = dict(snapshot.nodes)
    nodes["size"] = dataclasses.replace(nodes["size"], title="Never drawn before")
    fresh = dataclasses.replace(snapshot, nodes=MappingProxyType(nodes))
    monkeypatch.setattr(layout_module.shutil, "which", lambda name: None)
    out = flowchart.render(fresh)
    assert "data-flowchart-unavailable" in out and "flowchart is unavailable" in out and "<svg" not in out

    def broken(*args: object, **kwargs: object) -> None:
        raise subprocess.TimeoutExpired("dot", 20)

    monkeypatch.setattr(layout_module.shutil, "which", lambda name: "/usr/bin/dot")
    monkeypatch.setattr(layout_module.subprocess, "run", broken)
    assert "data-flowchart-unavailable" in flowchart.render(fresh)
