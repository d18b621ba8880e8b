"""How IRIs appear on pages: the path of this server that describes an IRI, and its short name.

The server root stands for ``settings.base_iri``; the ontology's IRIs (``ONTOLOGY_ROOT``) are
served at the same paths whatever the base IRI is. :class:`Linker` answers, for one request's
settings and labels, what the templates need to show a term as a link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from diplograph.loader.config import Settings
from diplograph.loader.iris import IriMinter
from diplograph.loader.namespaces import XSD, output_prefixes
from diplograph.loader.namespaces import compact as compact_iri

__all__ = [
    "ONTOLOGY_PATHS",
    "ONTOLOGY_ROOT",
    "Linker",
    "compact",
    "link_prefixes",
    "local_href",
]

#: The IRIs of the ontology, its code lists and shapes all start with this; the server serves
#: them at the same paths (``/ns``, ``/kw/…``, ``/cameo/…``, ``/plover/…``, ``/codes``,
#: ``/shapes``) whatever the data's ``base_iri`` is.
ONTOLOGY_ROOT = "https://w3id.org/diplograph/"
#: The paths under ONTOLOGY_ROOT this server answers (the query page's script needs them too).
ONTOLOGY_PATHS = ("ns", "kw/", "cameo", "plover", "codes", "shapes")

# The pages name terms as the query page's script does (static/query.js, LOCAL_NAME): a local
# name may end with a dot there, so it does here.
_LOCAL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def local_href(iri: str, settings: Settings) -> str | None:
    """The path on this server that describes ``iri``, or None for an IRI served elsewhere.

    IRIs under ``settings.base_iri`` keep their path (the server root is the base IRI); the
    ontology's IRIs map onto ``/ns``, ``/kw/…`` and the other vocabulary paths.
    """
    if iri.startswith(settings.base_iri) and len(iri) > len(settings.base_iri):
        return "/" + iri[len(settings.base_iri) :]
    if iri.startswith(ONTOLOGY_ROOT):
        rest = iri[len(ONTOLOGY_ROOT) :]
        if rest.startswith(ONTOLOGY_PATHS):
            return "/" + rest
    return None


def link_prefixes(settings: Settings) -> dict[str, str]:
    """Prefixes for showing IRIs compactly: the standard ones plus the per-kind data prefixes."""
    return output_prefixes(settings.base_iri)


def compact(iri: str, prefixes: Mapping[str, str]) -> str:
    """``prefix:local`` when a prefix fits ``iri`` and the rest is a plain name, else ``iri``."""
    return compact_iri(iri, prefixes, local_name=_LOCAL_NAME) or iri


class Linker:
    """Links and names of terms for one request's settings, labels and term definitions.

    Templates call its methods (see ``templates/_terms.html``); it returns plain text, which
    the templates escape.
    """

    #: Literals of this datatype are shown without their datatype.
    xsd_string = XSD + "string"

    def __init__(
        self,
        settings: Settings,
        labels: Mapping[str, str],
        definitions: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.labels = labels
        self.definitions = definitions or {}
        self.prefixes = link_prefixes(settings)

    def href(self, iri: str) -> str:
        """The local path describing ``iri``, else ``iri`` itself."""
        return local_href(iri, self.settings) or iri

    def is_external(self, iri: str) -> bool:
        """Whether ``iri`` is described by another server (its link gets ``rel="external"``)."""
        return local_href(iri, self.settings) is None

    def compact(self, iri: str) -> str:
        """``prefix:local`` for ``iri`` when a prefix fits, else the IRI."""
        return compact(iri, self.prefixes)

    def name(self, iri: str) -> str:
        """A short name: ``prefix:local``, else the path under ``{base}id/``, else the IRI."""
        short = compact(iri, self.prefixes)
        ids = IriMinter(self.settings.base_iri).ids()
        if short == iri and iri.startswith(ids):
            return iri[len(ids) :]
        return short

    def predicate_title(self, iri: str) -> str:
        """The tooltip of a property: its short name and, when the ontology has one, definition."""
        name = compact(iri, self.prefixes)
        definition = self.definitions.get(iri, "")
        return f"{name}: {definition}" if definition else name
