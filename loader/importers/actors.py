"""Actors of event datasets as entities of the facts format: states, their governments and
government bodies, armed groups, organizations, regions and people.

States go through the gazetteer (loader/gazetteer/): a state given by its ISO 3166-1 alpha-3
code or its Wikidata id becomes the entity the story and every other document make for it
(``identifiers: {"iso3166": "CHN", "cameo": "CHN"}``), so imported events land on the same
nodes as extracted facts. A government is the government of its state (one node per state); a
military, police, judiciary, legislature or intelligence service is a government body of that
government. The class of an actor with a CAMEO role code is the code's ``cameo:actorClass``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from diplograph.loader.gazetteer import State, state_by_iso, state_by_wikidata
from diplograph.loader.importers.codes import code_lists
from diplograph.loader.importers.documents import Actor, local_id

__all__ = [
    "CameoActor",
    "cameo_actor",
    "government",
    "named",
    "state",
    "state_of",
    "title_case",
]


def title_case(name: str) -> str:
    """``"UNITED NATIONS"`` → ``"United Nations"``; a name in mixed case is kept as it is."""
    if name.isupper():
        return " ".join(w.capitalize() if len(w) > 1 or w.isalpha() else w for w in name.split())
    return name.strip()


def state_of(code: str) -> State | None:
    """The gazetteer's state for an ISO 3166-1 alpha-3 (CAMEO) country code, or None."""
    return state_by_iso(code) if len(code) == 3 and code.isalpha() else None


def state(known: State) -> Actor:
    """The State entity of a gazetteer state, identified by its codes and Wikidata id."""
    entity: dict[str, Any] = {
        "id": local_id(f"state-{known.iso3}"),
        "type": "State",
        "name": known.name,
        "wikidata": known.wikidata,
        "identifiers": {"iso3166": known.iso3, "cameo": known.iso3},
    }
    return Actor(entity["id"], (entity,))


def government(known: State) -> Actor:
    """The government of a gazetteer state (it governs the state's entity)."""
    of = state(known)
    entity: dict[str, Any] = {
        "id": local_id(f"gov-{known.iso3}"),
        "type": "Government",
        "name": f"Government of {known.name}",
        "governs": of.id,
        "identifiers": {"cameo": f"{known.iso3}GOV"},
    }
    return Actor(entity["id"], (entity, *of.entities))


def named(
    kind: str,
    name: str,
    *,
    key: str,
    identifiers: dict[str, str] | None = None,
    wikidata: str | None = None,
    based_in: State | None = None,
) -> Actor:
    """An entity known by its name (an armed group, an organization, a person, a place)."""
    entity: dict[str, Any] = {"id": local_id(key), "type": kind, "name": name[:500]}
    if wikidata:
        entity["wikidata"] = wikidata
    if identifiers:
        entity["identifiers"] = {k: v[:200].strip() for k, v in identifiers.items() if v.strip()}
    refs: tuple[dict[str, Any], ...] = ()
    if based_in is not None and kind not in {"Person", "State", "Place", "City", "Region"}:
        home = state(based_in)
        entity["based_in"] = home.id
        refs = home.entities
    return Actor(entity["id"], (entity, *refs))


def by_wikidata(qid: str, kind: str, name: str, key: str) -> Actor:
    """An actor with a Wikidata id: the gazetteer's State when the id is a state's."""
    known = state_by_wikidata(qid)
    if known is not None:
        return state(known)
    return named(kind, name, key=key, wikidata=qid)


@dataclass(frozen=True)
class CameoActor:
    """One actor as GDELT gives it: the full CAMEO code and its parts."""

    code: str
    name: str
    country: str
    known_group: str
    types: tuple[str, ...]


_BODY_NAMES = {
    "MIL": "armed forces",
    "COP": "police",
    "JUD": "judiciary",
    "LEG": "legislature",
    "SPY": "intelligence services",
}


def cameo_actor(actor: CameoActor) -> Actor | str | None:
    """The entity for a CAMEO-coded actor, None when the row names no actor, or the reason it
    is too unspecific to be one node (a string: "rebels" of no state, an ethnic group …)."""
    if not actor.code:
        return None
    codes = code_lists()
    roles = [t for t in actor.types if t in codes.cameo_roles]
    known = state_of(actor.country) if actor.country else None
    region = codes.cameo_regions.get(actor.country)
    name = title_case(actor.name) or actor.code
    if actor.known_group:
        cls = codes.cameo_roles[roles[0]].cls if roles else "Organization"
        return named(
            cls or "Organization",
            name,
            key=f"cameo-{actor.code}",
            identifiers={"cameo": actor.code},
            based_in=known,
        )
    if known is None and region is not None:
        return f"the region {region.notation} ({region.label}) is a place, not an agent"
    if known is None and actor.country:
        # an ISO code of a territory that is not a UN member or observer state (TWN, HKG)
        return named(
            "State", name, key=f"cameo-{actor.country}", identifiers={"cameo": actor.country}
        )
    if known is None:
        # the code itself stays out of the reason: one report line for all such actors
        return "an actor code that names no state or known group (too unspecific to be a node)"
    if not roles:
        return state(known)
    role = roles[0]
    if role == "GOV":
        return government(known)
    cls = codes.cameo_roles[role].cls or "Organization"
    if role in _BODY_NAMES:
        gov = government(known)
        entity: dict[str, Any] = {
            "id": local_id(f"body-{known.iso3}{role}"),
            "type": "GovernmentBody",
            "name": f"{known.name} {_BODY_NAMES[role]}",
            "part_of": gov.id,
            "identifiers": {"cameo": f"{known.iso3}{role}"},
        }
        return Actor(entity["id"], (entity, *gov.entities))
    label = codes.cameo_roles[role].label
    return named(
        cls,
        f"{label} ({known.name})",
        key=f"cameo-{known.iso3}{role}",
        identifiers={"cameo": f"{known.iso3}{role}"},
        based_in=known,
    )
