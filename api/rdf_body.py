"""Reading the RDF a Graph Store write carries: one document, or ``multipart/form-data`` parts.

* One document: its ``Content-Type`` picks the parser (a graph format for a graph or the default
  graph, a dataset format for the whole dataset), else 415.
* ``multipart/form-data`` (Graph Store Protocol §5.5): every part is an RDF document in a graph
  format, chosen by the part's ``Content-Type`` or else by its file name's extension; the parts
  are merged. The parts are read with the standard library's MIME parser (the body is already
  bounded by the server's body cap).

Parsing is Oxigraph's, on a thread: no external XML entities, no external DTDs, no remote
JSON-LD contexts; RDF/XML that declares entities is refused (an entity-expansion bomb would
otherwise turn a few hundred bytes into gigabytes).
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP

import anyio.to_thread
from fastapi import Request
from pyoxigraph import Quad, parse

from diplograph.api.errors import UnsupportedMediaTypeError
from diplograph.api.formats import Format, rdf_format_for_content_type
from diplograph.loader.errors import InputError

__all__ = ["MULTIPART", "read_rdf"]

MULTIPART = "multipart/form-data"


async def read_rdf(
    request: Request, accepted: Sequence[Format], base: str, *, graphs: bool
) -> list[Quad]:
    """The request body as quads (triples in the default graph); ``graphs`` lets a dataset
    format keep its named graphs."""
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    if content_type.split(";", 1)[0].strip().lower() == MULTIPART:
        documents = _parts(content_type, body, accepted)
    else:
        documents = [(_format(content_type, accepted, "the body"), body)]
    for fmt, data in documents:
        _refuse_entities(fmt, data)

    def parse_all() -> list[Quad]:
        quads: list[Quad] = []
        for fmt, data in documents:
            assert fmt.rdf is not None
            try:
                quads += parse(data, format=fmt.rdf, base_iri=base, without_named_graphs=not graphs)
            except SyntaxError as exc:
                raise InputError(f"the {fmt.label} body does not parse: {exc}") from None
            except ValueError as exc:
                raise InputError(f"the {fmt.label} body cannot be read: {exc}") from None
        return quads

    return await anyio.to_thread.run_sync(parse_all)


def _format(content_type: str | None, accepted: Sequence[Format], what: str) -> Format:
    fmt = rdf_format_for_content_type(content_type, accepted)
    if fmt is None or fmt.rdf is None:
        names = ", ".join(f.media_type for f in accepted)
        raise UnsupportedMediaTypeError(
            f"the Content-Type of {what}, {content_type!r}, is not one this target reads; "
            f"send one of: {names}"
        )
    return fmt


def _parts(
    content_type: str, body: bytes, accepted: Sequence[Format]
) -> list[tuple[Format, bytes]]:
    """The RDF documents of a ``multipart/form-data`` body."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise InputError("the multipart/form-data body has no parts (is its boundary right?)")
    documents = []
    for index, part in enumerate(message.iter_parts(), start=1):
        assert isinstance(part, Message)
        name = part.get_filename() or part.get_param("name", header="content-disposition")
        what = f"part {index} ({name})" if name else f"part {index}"
        given = part.get("content-type") if "content-type" in part else None
        fmt = _format_of_part(given, part.get_filename(), accepted, what)
        payload = part.get_payload(decode=True)
        documents.append((fmt, payload if isinstance(payload, bytes) else b""))
    if not documents:
        raise InputError("the multipart/form-data body has no parts")
    return documents


def _format_of_part(
    content_type: str | None, filename: str | None, accepted: Sequence[Format], what: str
) -> Format:
    if content_type and not content_type.lower().startswith(("text/plain", "application/octet")):
        return _format(content_type, accepted, what)
    extension = filename.rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    for fmt in accepted:
        if extension and extension in fmt.extensions and fmt.rdf is not None:
            return fmt
    return _format(content_type, accepted, what)


def _refuse_entities(fmt: Format, body: bytes) -> None:
    if fmt.name != "rdfxml":
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("send RDF/XML encoded as UTF-8") from None
    if "<!ENTITY" in text:
        raise InputError(
            "RDF/XML with <!ENTITY> declarations is not accepted (entity expansion can "
            "multiply a small body into gigabytes); expand the entities before sending"
        )
