"""The network (:mod:`diplograph.loader.network`) in the formats of network tools: GraphML
(networkx, Gephi, yEd), GEXF 1.3 (Gephi), CSV tables (a nodes table and an edges table) and
JSON (the web page's own).

Every format carries the same attributes: nodes have ``label``, ``class`` (state, government,
person, militia or other) and ``wikidata`` (a ``Q…`` id, empty when unknown); edges have
``count`` (the number of events the pair shares, also the edge's weight), ``first`` and ``last``
(the earliest and latest start date, ISO text at the date's own precision) and ``types`` (the
events' most specific types, ``;``-separated local names). XML is written with the standard
library's ElementTree, so labels are escaped as XML requires.
"""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from diplograph.loader.errors import UnsupportedFormatError
from diplograph.loader.namespaces import DIP
from diplograph.loader.network import Edge, Network, Node

__all__ = [
    "NETWORK_FORMATS",
    "NetworkFormat",
    "network_format",
    "network_json",
    "type_name",
    "write_csv",
    "write_gexf",
    "write_graphml",
]

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://gexf.net/1.3"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"

#: Node attributes: (name, GraphML type); edge attributes likewise (``count`` is an int).
NODE_ATTRIBUTES = (("label", "string"), ("class", "string"), ("wikidata", "string"))
EDGE_ATTRIBUTES = (("count", "int"), ("first", "string"), ("last", "string"), ("types", "string"))
#: The CSV tables: their columns.
NODE_COLUMNS = ("id", "label", "class", "wikidata")
EDGE_COLUMNS = ("source", "target", "weight", "first", "last", "types")


def type_name(iri: str) -> str:
    """An event type as written in the exports: the local name of a ``dip:`` class, else the IRI."""
    return iri[len(DIP) :] if iri.startswith(DIP) else iri


def _node_values(node: Node) -> dict[str, str]:
    return {"label": node.label, "class": node.actor_class, "wikidata": node.wikidata or ""}


def _edge_values(edge: Edge) -> dict[str, str]:
    return {
        "count": str(edge.count),
        "first": edge.first or "",
        "last": edge.last or "",
        "types": ";".join(type_name(t) for t in edge.event_types),
    }


def write_graphml(network: Network, output: IO[bytes]) -> None:
    """``network`` as an undirected GraphML graph; node ids are the actors' IRIs."""
    ET.register_namespace("", GRAPHML_NS)
    root = ET.Element(f"{{{GRAPHML_NS}}}graphml")
    for scope, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, kind in attributes:
            ET.SubElement(
                root,
                f"{{{GRAPHML_NS}}}key",
                {"id": name, "for": scope, "attr.name": name, "attr.type": kind},
            )
    graph = ET.SubElement(root, f"{{{GRAPHML_NS}}}graph", {"edgedefault": "undirected"})
    for node in network.nodes:
        element = ET.SubElement(graph, f"{{{GRAPHML_NS}}}node", {"id": node.iri})
        _graphml_data(element, _node_values(node))
    for i, edge in enumerate(network.edges):
        element = ET.SubElement(
            graph,
            f"{{{GRAPHML_NS}}}edge",
            {"id": f"e{i}", "source": edge.source, "target": edge.target},
        )
        _graphml_data(element, _edge_values(edge))
    _write_xml(root, output)


def _graphml_data(element: ET.Element, values: dict[str, str]) -> None:
    for key, value in values.items():
        if value:
            ET.SubElement(element, f"{{{GRAPHML_NS}}}data", {"key": key}).text = value


def write_gexf(network: Network, output: IO[bytes], *, today: date | None = None) -> None:
    """``network`` as a GEXF 1.3 graph (undirected, static); edge weight is the count."""
    ET.register_namespace("", GEXF_NS)
    ET.register_namespace("xsi", _XSI)
    root = ET.Element(
        f"{{{GEXF_NS}}}gexf",
        {
            "version": "1.3",
            f"{{{_XSI}}}schemaLocation": f"{GEXF_NS} {GEXF_NS}/gexf.xsd",
        },
    )
    meta = ET.SubElement(
        root, f"{{{GEXF_NS}}}meta", {"lastmodifieddate": (today or date.today()).isoformat()}
    )
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "diplograph"
    ET.SubElement(
        meta, f"{{{GEXF_NS}}}description"
    ).text = "Who engages whom: actors, and the number of events each pair shares"
    graph = ET.SubElement(
        root, f"{{{GEXF_NS}}}graph", {"defaultedgetype": "undirected", "mode": "static"}
    )
    node_attributes = [(n, k) for n, k in NODE_ATTRIBUTES if n != "label"]  # label is built in
    edge_attributes = [(n, "integer" if k == "int" else k) for n, k in EDGE_ATTRIBUTES]
    for scope, attributes in (("node", node_attributes), ("edge", edge_attributes)):
        declared = ET.SubElement(graph, f"{{{GEXF_NS}}}attributes", {"class": scope})
        for name, kind in attributes:
            ET.SubElement(
                declared, f"{{{GEXF_NS}}}attribute", {"id": name, "title": name, "type": kind}
            )
    nodes = ET.SubElement(graph, f"{{{GEXF_NS}}}nodes", {"count": str(len(network.nodes))})
    for node in network.nodes:
        element = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", {"id": node.iri, "label": node.label})
        values = _node_values(node)
        del values["label"]
        _gexf_values(element, values)
    edges = ET.SubElement(graph, f"{{{GEXF_NS}}}edges", {"count": str(len(network.edges))})
    for i, edge in enumerate(network.edges):
        element = ET.SubElement(
            edges,
            f"{{{GEXF_NS}}}edge",
            {
                "id": f"e{i}",
                "source": edge.source,
                "target": edge.target,
                "weight": str(edge.count),
            },
        )
        _gexf_values(element, _edge_values(edge))
    _write_xml(root, output)


def _gexf_values(element: ET.Element, values: dict[str, str]) -> None:
    present = {k: v for k, v in values.items() if v}
    if present:
        holder = ET.SubElement(element, f"{{{GEXF_NS}}}attvalues")
        for key, value in present.items():
            ET.SubElement(holder, f"{{{GEXF_NS}}}attvalue", {"for": key, "value": value})


def _write_xml(root: ET.Element, output: IO[bytes]) -> None:
    ET.indent(root)
    ET.ElementTree(root).write(output, encoding="utf-8", xml_declaration=True)


def write_csv(network: Network, output: IO[bytes], *, table: str = "edges") -> None:
    """One table of ``network`` as CSV (UTF-8, a header row): ``edges`` (source, target and
    weight, as Gephi's spreadsheet import reads them, then first, last, types) or ``nodes``
    (id, label, class, wikidata)."""
    text = io.TextIOWrapper(output, encoding="utf-8", newline="")
    writer = csv.writer(text)
    if table == "edges":
        writer.writerow(EDGE_COLUMNS)
        for edge in network.edges:
            values = _edge_values(edge)
            writer.writerow([edge.source, edge.target, *values.values()])
    elif table == "nodes":
        writer.writerow(NODE_COLUMNS)
        for node in network.nodes:
            writer.writerow((node.iri, *_node_values(node).values()))
    else:
        raise UnsupportedFormatError(f"table={table!r}: the CSV tables are edges and nodes")
    text.flush()
    text.detach()


def network_json(network: Network) -> dict[str, Any]:
    """``network`` as plain JSON data: ``nodes``, ``edges`` and the counts."""
    return {
        "nodes": [{"id": n.iri, **_node_values(n)} for n in network.nodes],
        "edges": [
            {
                "source": e.source,
                "target": e.target,
                "count": e.count,
                "first": e.first,
                "last": e.last,
                "types": [type_name(t) for t in e.event_types],
            }
            for e in network.edges
        ],
        "total_edges": network.total_edges,
        "from_summary": network.from_summary,
    }


def _write_json(network: Network, output: IO[bytes]) -> None:
    output.write(json.dumps(network_json(network), ensure_ascii=False).encode("utf-8"))


@dataclass(frozen=True)
class NetworkFormat:
    """An export format: its name, media type, file extension and writer."""

    name: str
    media_type: str
    extension: str
    write: Callable[[Network, IO[bytes]], None]


#: The export formats by name, in the order they are offered.
NETWORK_FORMATS: dict[str, NetworkFormat] = {
    f.name: f
    for f in (
        NetworkFormat("graphml", "application/graphml+xml", "graphml", write_graphml),
        NetworkFormat("gexf", "application/gexf+xml", "gexf", write_gexf),
        NetworkFormat("csv", "text/csv; charset=utf-8", "csv", write_csv),
        NetworkFormat("json", "application/json", "json", _write_json),
    )
}


def network_format(name: str) -> NetworkFormat:
    """The format called ``name``; an unknown name raises UnsupportedFormatError."""
    try:
        return NETWORK_FORMATS[name]
    except KeyError:
        choices = ", ".join(NETWORK_FORMATS)
        raise UnsupportedFormatError(
            f"unknown network format {name!r}; choose one of {choices}"
        ) from None
