"""A seeded generator of realistic facts documents, in diplograph's own facts format.

``python -m bench.generate --docs 10000 --seed 1 -o bench/out/docs-10k.jsonl`` writes JSON Lines,
one facts document per line (docs/facts.md). The same arguments always give the same bytes.

The data imitates a news wire over ten years (2015–2024), in publication order:

* a synthetic world: states (Zipf-ranked, so a few states are in most stories), their
  governments, foreign ministries and posts (foreign minister, special envoy — diplomatic posts —
  president, spokesperson) held by a succession of people over time; cities and regions; militias
  backed by states directly or through umbrella groups (chains, for ``dip:backedBy+``);
  publishers (Zipf-ranked too);
* each document tells one story — a phone call, meeting, visit, tour, mediation, outreach,
  attack or statement — in 5–15 facts: the main event, readouts, statements with stances,
  appeals, post holdings (with start dates), backings, relations, conflicts;
* about a quarter of the documents report an event an earlier document already reported, with
  the same type, participants and date, so the loader mints the same node and corroboration
  exists.

Every attribute of an event that the shapes allow only once (modality, duration, CAMEO and
PLOVER codes, place, whom a participant acted for) is derived from a hash of what the event's
IRI is minted from, so two documents that mint the same node always agree and the union of all
documents stays valid, without the generator remembering every event.

Names are invented (no real people, states or organizations). A few entities are anchors with
fixed names, whatever the seed, for the benchmark queries (``bench/queries``):
:data:`ANCHOR_STATE` (the most frequent state), :data:`ANCHOR_DIPLOMAT` (its foreign minister from
:data:`ANCHOR_TERM`), :data:`ANCHOR_MILITIA` (the most frequent militia).
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import random
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

__all__ = [
    "ANCHOR_DIPLOMAT",
    "ANCHOR_MILITIA",
    "ANCHOR_STATE",
    "ANCHOR_TERM",
    "END",
    "START",
    "World",
    "generate",
    "main",
    "parse_count",
    "write_jsonl",
]

START = dt.date(2015, 1, 1)
END = dt.date(2024, 12, 31)

ANCHOR_STATE = "Aurelia"
ANCHOR_DIPLOMAT = "Ilsa Marvane"
ANCHOR_MILITIA = "Crimson Dawn Brigade"
#: The anchor diplomat is Aurelia's foreign minister over this term.
ANCHOR_TERM = (dt.date(2018, 3, 1), dt.date(2023, 6, 30))

#: Probability that a document re-reports a recent event instead of a new one.
REPORT_AGAIN = 0.25
_POOL_SIZE = 400


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = _words(
    "ar bel cor dan el fen gal hor is jan kel lor mar nor os pal quin ros sal tor ul val wen "
    "xan yor zel bra cai dro esk fal gor hel ith kor lum mor nev ost pra rhu sev tam ur vok"
)
_STATE_ENDINGS = ("ia", "land", "stan", "ova", "ar", "ica", "ene", "is", "mark", "oria", "enia")
_FIRST_NAMES = _words(
    "Adrian Alina Amara Anton Arjun Aya Bela Boris Camila Chen Dalia Darius Elif Emil Farah "
    "Felix Hana Hugo Idris Ines Ivo Jana Joren Kaia Karim Lara Leon Lina Malik Mara Mateo "
    "Nadia Nikolai Noor Omar Petra Rafael Rina Samir Sofia Tariq Tomas Vera Yusuf Zora"
)
_ADJECTIVES = _words(
    "Crimson Black Iron Silver Northern Southern Eastern Western Free Red Green Golden Hidden "
    "Burning Steel Storm"
)
_NOUNS = _words("Dawn Star Hand Shield Sword Banner Flame Eagle Wolf Falcon Lion River Mountain")
_MILITIA_KINDS = ("Brigade", "Battalion", "Legion", "Guard", "Movement", "Militia")
_UMBRELLA_KINDS = ("Front", "Axis", "Coalition", "Alliance")
_PAPERS = ("Herald", "Courier", "Tribune", "Gazette", "Observer", "Dispatch", "Times", "Post")
_REGIONS = (
    "Northern Reach",
    "Eastern Littoral",
    "Southern Plateau",
    "Western Marches",
    "Central Basin",
    "Island Arc",
    "Desert Belt",
    "Highland Ring",
)
_TOPICS = (
    "attacks on civilians",
    "the ceasefire talks",
    "sanctions on energy exports",
    "the humanitarian corridor",
    "the release of detained journalists",
    "the border demarcation",
    "the nuclear programme",
    "arms transfers to armed groups",
    "the refugee return agreement",
    "maritime security in the strait",
    "the trade agreement",
    "the peace conference",
    "the occupation of the border towns",
    "election observers",
    "the prisoner exchange",
    "water rights on the river",
    "the grain export deal",
    "foreign military bases",
    "the reconstruction fund",
    "the blockade of the port",
    "respect for international law",
    "regional stability",
    "the two-state solution",
    "freedom of navigation",
)
_ACTIONS = (
    "use its influence to keep armed groups from widening the conflict",
    "join the ceasefire talks",
    "release the detained aid workers",
    "stop arms deliveries to the militias",
    "reopen the border crossing for aid",
    "respect the other side's core interests",
    "take a constructive role towards a political solution",
    "withdraw its forces from the disputed area",
    "allow observers into the region",
    "restore the suspended trade talks",
)
_POLARITIES = ("supports", "opposes", "condemns", "urges", "concerned-about")
_QUALITIES = ("close", "tense", "improving", "hostile", "detente", "communication-reopened")
_DAY_WORDS = ("on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "yesterday")
_DURATIONS = ("PT30M", "PT45M", "PT1H", "PT90M", "PT2H")
#: CAMEO and PLOVER codes per fact type (listed in ontology/cameo.ttl and plover.ttl); one is
#: picked by the event's hash, so a node always gets the same code.
_CODES: dict[str, tuple[tuple[str, str], ...]] = {
    "PhoneCall": (("041", "CONSULT"), ("040", "CONSULT")),
    "Meeting": (("043", "CONSULT"), ("044", "CONSULT"), ("046", "CONSULT")),
    "Visit": (("042", "CONSULT"),),
    "DiplomaticTour": (("042", "CONSULT"),),
    "Mediation": (("045", "CONSULT"),),
    "Outreach": (("040", "CONSULT"), ("03", "COOPERATE")),
    "Statement": (("010", "SUPPORT"), ("018", "SUPPORT")),
    "Readout": (("010", "CONSULT"),),
    "Appeal": (("020", "REQUEST"), ("022", "REQUEST"), ("027", "REQUEST")),
    "Condemnation": (("111", "ACCUSE"), ("112", "ACCUSE")),
    "Praise": (("051", "SUPPORT"), ("057", "AGREE")),
    "Attack": (("190", "ASSAULT"), ("193", "ASSAULT"), ("195", "ASSAULT"), ("180", "ASSAULT")),
    "ArmedConflict": (("19", "ASSAULT"),),
}
_STORIES = (
    ("call", 24),
    ("meeting", 18),
    ("visit", 14),
    ("attack", 16),
    ("statement", 10),
    ("tour", 6),
    ("mediation", 6),
    ("outreach", 6),
)


def _hash(*parts: object) -> int:
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(repr(part).encode())
        digest.update(b"\x1f")
    return int.from_bytes(digest.digest(), "big")


def _pick(options: Sequence[Any], *key: object) -> Any:
    """An option chosen by a hash of ``key``: the same key always picks the same option."""
    return options[_hash(*key) % len(options)]


def _zipf_cum(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


def _iso(day: dt.date) -> str:
    return day.isoformat()


# ------------------------------------------------------------------------------------------------
# The world


@dataclass(frozen=True)
class Entity:
    """An entity of the world; ``key`` is also its local id in every document."""

    key: str
    type: str
    name: str
    links: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.key, "type": self.type, "name": self.name}
        if self.aliases:
            out["aliases"] = list(self.aliases)
        out.update(self.links)
        return out


@dataclass(frozen=True)
class Term:
    """One person holding one post from ``start`` to ``end``."""

    post: str
    person: str
    start: dt.date
    end: dt.date


@dataclass
class World:
    """Everything documents talk about, built once from the seed."""

    rng: random.Random
    n_states: int = 120
    n_militias: int = 60
    n_umbrellas: int = 12
    n_publishers: int = 40
    entities: dict[str, Entity] = field(default_factory=dict)
    states: list[str] = field(default_factory=list)
    posts: dict[str, dict[str, str]] = field(default_factory=dict)
    terms: dict[str, list[Term]] = field(default_factory=dict)
    term_of: dict[str, Term] = field(default_factory=dict)
    cities: dict[str, list[str]] = field(default_factory=dict)
    region_of: dict[str, str] = field(default_factory=dict)
    region_states: dict[str, list[str]] = field(default_factory=dict)
    militias: list[str] = field(default_factory=list)
    target_of: dict[str, str] = field(default_factory=dict)
    conflict_start: dict[str, int] = field(default_factory=dict)
    sponsors: dict[str, list[str]] = field(default_factory=dict)
    publishers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._names: set[str] = set()
        self._build()
        self.state_cum = _zipf_cum(len(self.states), 1.0)
        self.militia_cum = _zipf_cum(len(self.militias), 1.0)
        self.publisher_cum = _zipf_cum(len(self.publishers), 0.8)

    # -- building --------------------------------------------------------------------------

    def _unique(self, make: Any) -> str:
        for _ in range(1000):
            name = str(make())
            if name not in self._names:
                self._names.add(name)
                return name
        raise RuntimeError("cannot find a fresh name")

    def _word(self, parts: int) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()

    def _add(self, entity: Entity) -> str:
        self.entities[entity.key] = entity
        return entity.key

    def _person(self, index: int, name: str | None = None) -> str:
        full = name or self._unique(
            lambda: f"{self.rng.choice(_FIRST_NAMES)} {self._word(self.rng.randint(2, 3))}"
        )
        if name:
            self._names.add(name)
        return self._add(Entity(f"p-{index:05d}", "Person", full))

    def _build(self) -> None:
        rng = self.rng
        regions = [self._add(Entity(f"reg-{i}", "Region", n)) for i, n in enumerate(_REGIONS)]
        self._names.update(_REGIONS)
        for i in range(self.n_states):
            name = (
                ANCHOR_STATE
                if i == 0
                else self._unique(
                    lambda: self._word(rng.randint(1, 2)) + rng.choice(_STATE_ENDINGS)
                )
            )
            if i == 0:
                self._names.add(name)
            region = regions[i % len(regions)] if i else regions[0]
            st = self._add(Entity(f"st-{i:03d}", "State", name, (("located_in", region),)))
            self.states.append(st)
            self.region_of[st] = region
            self.region_states.setdefault(region, []).append(st)
            gov = self._add(
                Entity(f"gov-{i:03d}", "Government", f"Government of {name}", (("governs", st),))
            )
            mfa = self._add(
                Entity(
                    f"mfa-{i:03d}",
                    "ForeignMinistry",
                    f"Ministry of Foreign Affairs of {name}",
                    (("part_of", gov),),
                    (f"{name} Foreign Ministry",),
                )
            )
            posts = {
                "fm": Entity(
                    f"fm-{i:03d}",
                    "DiplomaticPost",
                    f"Foreign Minister of {name}",
                    (("post_in", mfa),),
                ),
                "envoy": Entity(
                    f"envoy-{i:03d}",
                    "DiplomaticPost",
                    f"Special Envoy of {name}",
                    (("post_in", mfa),),
                ),
                "leader": Entity(
                    f"leader-{i:03d}", "Post", f"President of {name}", (("post_in", gov),)
                ),
                "spox": Entity(
                    f"spox-{i:03d}",
                    "Post",
                    f"Spokesperson of the Foreign Ministry of {name}",
                    (("post_in", mfa),),
                ),
            }
            self.posts[st] = {role: self._add(post) for role, post in posts.items()}
            self.posts[st]["gov"] = gov
            self.posts[st]["mfa"] = mfa
            self.cities[st] = [
                self._add(
                    Entity(
                        f"city-{i:03d}-{c}",
                        "City",
                        self._unique(lambda: self._word(rng.randint(2, 3))),
                        (("located_in", st),),
                    )
                )
                for c in range(2)
            ]
        self._build_terms()
        umbrellas = []
        for u in range(self.n_umbrellas):
            name = self._unique(
                lambda: (
                    f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_UMBRELLA_KINDS)}"
                )
            )
            key = self._add(Entity(f"nsag-{u:02d}", "NonStateArmedGroup", name))
            umbrellas.append(key)
            self.sponsors[key] = [self._sample_state()]
        for m in range(self.n_militias):
            name = (
                ANCHOR_MILITIA
                if m == 0
                else self._unique(
                    lambda: (
                        f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} "
                        f"{rng.choice(_MILITIA_KINDS)}"
                    )
                )
            )
            if m == 0:
                self._names.add(name)
            base = self._sample_state()
            key = self._add(Entity(f"mil-{m:03d}", "Militia", name, (("based_in", base),)))
            self.militias.append(key)
            target = self._sample_state()
            while target == base:
                target = self._sample_state()
            self.target_of[key] = target
            self.conflict_start[key] = rng.randint(2008, 2020)
            backers = [rng.choice(umbrellas)] if rng.random() < 0.6 else []
            if not backers or rng.random() < 0.3:
                sponsor = self._sample_state()
                while sponsor in (target, base):
                    sponsor = self._sample_state()
                backers.append(self.posts[sponsor]["gov"] if rng.random() < 0.5 else sponsor)
            self.sponsors[key] = backers
        for p in range(self.n_publishers):
            self.publishers.append(
                self._unique(lambda: f"The {self._word(2)} {rng.choice(_PAPERS)}")
                if p % 4
                else self._unique(lambda: f"{self._word(2)} News Agency")
            )

    def _sample_state(self) -> str:
        cum = _zipf_cum(len(self.states), 1.0)  # the list grows while the world is built
        return self.states[bisect.bisect(cum, self.rng.random() * cum[-1])]

    def _build_terms(self) -> None:
        rng = self.rng
        index = 0
        for s, st in enumerate(self.states):
            for role in ("fm", "envoy", "leader", "spox"):
                post = self.posts[st][role]
                day = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(365))
                terms: list[Term] = []
                while day <= END:
                    if (
                        s == 0
                        and role == "fm"
                        and day < ANCHOR_TERM[0] <= day + dt.timedelta(days=6 * 365)
                    ):
                        end = ANCHOR_TERM[0] - dt.timedelta(days=1)
                    elif s == 0 and role == "fm" and day == ANCHOR_TERM[0]:
                        end = ANCHOR_TERM[1]
                    else:
                        end = day + dt.timedelta(days=rng.randint(365, 6 * 365))
                    anchor = s == 0 and role == "fm" and day == ANCHOR_TERM[0]
                    person = self._person(index, ANCHOR_DIPLOMAT if anchor else None)
                    index += 1
                    term = Term(post, person, day, end)
                    terms.append(term)
                    self.term_of[person] = term
                    day = end + dt.timedelta(days=1)
                self.terms[post] = terms

    # -- sampling --------------------------------------------------------------------------

    def state(self, rng: random.Random, *exclude: str) -> str:
        while True:
            st = self.states[bisect.bisect(self.state_cum, rng.random() * self.state_cum[-1])]
            if st not in exclude:
                return st

    def militia(self, rng: random.Random) -> str:
        cum = self.militia_cum
        return self.militias[bisect.bisect(cum, rng.random() * cum[-1])]

    def publisher(self, rng: random.Random) -> str:
        cum = self.publisher_cum
        return self.publishers[bisect.bisect(cum, rng.random() * cum[-1])]

    def holder(self, state: str, role: str, day: dt.date) -> str:
        terms = self.terms[self.posts[state][role]]
        i = bisect.bisect_right([t.start for t in terms], day) - 1
        return terms[max(i, 0)].person

    def closure(self, keys: Sequence[str]) -> list[str]:
        """``keys`` and every entity they link to, in first-seen order."""
        out: dict[str, None] = {}
        todo = list(keys)
        while todo:
            key = todo.pop(0)
            if key in out:
                continue
            out[key] = None
            todo.extend(target for _, target in self.entities[key].links)
        return list(out)


# ------------------------------------------------------------------------------------------------
# Documents


@dataclass
class _Doc:
    """One document being written: its facts and the entities they mention."""

    world: World
    rng: random.Random
    day: dt.date
    budget: int
    facts: list[dict[str, Any]] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)

    def room(self, n: int = 1) -> bool:
        return len(self.facts) + n <= self.budget

    def add(self, fact: dict[str, Any], *, summary: str | None = None) -> str:
        """Add ``fact`` with this document's own id, confidence and evidence; return its id."""
        rng = self.rng
        fid = f"f{len(self.facts) + 1}"
        out: dict[str, Any] = {"id": fid, **fact}
        if summary and rng.random() < 0.6:
            out["summary"] = summary
        out["confidence"] = round(rng.uniform(0.55, 1.0), 2)
        if rng.random() < 0.5:
            start = rng.randrange(0, 6000)
            out["evidence"] = [{"start": start, "end": start + rng.randint(40, 400)}]
        self.facts.append(out)
        for part in fact.get("participants", ()):
            self.mention(part["entity"], part.get("on_behalf_of"), part.get("place"))
        self.mention(fact.get("place"), fact.get("post"))
        if isinstance(fact.get("according_to"), str) and fact["according_to"] in (
            self.world.entities
        ):
            self.mention(fact["according_to"])
        return fid

    def mention(self, *keys: str | None) -> None:
        for key in keys:
            if key and key not in self.mentioned:
                self.mentioned.append(key)

    def time(self, when: dict[str, str]) -> dict[str, str]:
        """A time as this document words it (the text varies, the values never do)."""
        out = dict(when)
        if "start" in when and len(when["start"]) == 10:
            words = ("today", *_DAY_WORDS) if when["start"] == _iso(self.day) else _DAY_WORDS
            out = {"text": self.rng.choice(words), **out}
        elif "start" in when and len(when["start"]) == 7:
            out = {"text": "last month" if self.rng.random() < 0.5 else "in recent weeks", **out}
        elif "earliest" in when:
            out = {"text": self.rng.choice(("this week", "in recent days", "lately")), **out}
        return out


def _event(
    kind: str,
    participants: list[dict[str, str]],
    when: dict[str, str],
    *,
    place_options: Sequence[str] = (),
    duration: bool = False,
    modalities: Sequence[str] = ("asserted",),
) -> dict[str, Any]:
    """An event fact whose single-valued attributes are functions of what its IRI is made of."""
    key = (kind, sorted((p["role"], p["entity"]) for p in participants), sorted(when.items()))
    fact: dict[str, Any] = {"type": kind, "participants": participants, "time": when}
    if duration:
        fact["duration"] = _pick(_DURATIONS, key, "duration")
    if place_options:
        fact["place"] = _pick(place_options, key, "place")
    modality = _pick(modalities, key, "modality")
    if modality != "asserted":
        fact["modality"] = modality
    if kind in _CODES:
        fact["cameo"], fact["plover"] = _pick(_CODES[kind], key, "codes")
    return fact


class Generator:
    """Writes documents one after the other, in publication order."""

    def __init__(self, seed: int, n_docs: int) -> None:
        self.seed = seed
        self.n_docs = n_docs
        self.world = World(random.Random(f"diplograph-bench-world-{seed}"))
        self.rng = random.Random(f"diplograph-bench-docs-{seed}")
        self.pool: deque[tuple[str, dict[str, Any], dict[str, str], dt.date]] = deque(
            maxlen=_POOL_SIZE
        )
        self.span = (END - START).days

    # -- one document ----------------------------------------------------------------------

    def document(self, index: int) -> dict[str, Any]:
        rng, world = self.rng, self.world
        day = START + dt.timedelta(days=index * self.span // max(self.n_docs, 1))
        publisher = world.publisher(rng)
        doc = _Doc(world, rng, day, rng.randint(5, 15))
        kind, main, actors = self.main_event(doc)
        self.story(doc, kind, main, actors)
        entities = [world.entities[k].to_json() for k in world.closure(doc.mentioned)]
        hour, minute = rng.randrange(24), rng.randrange(60)
        stamp = f"{_iso(day + dt.timedelta(days=1))}T{hour:02d}:{minute:02d}:00Z"
        doc_id = f"bench-{self.seed}-{index:07d}"
        meta: dict[str, Any] = {
            "id": doc_id,
            "url": f"https://news.example/{doc_id}",
            "title": f"{kind.capitalize()} story {index} ({publisher})",
            "publisher": publisher,
            "published": _iso(day),
            "language": "en",
        }
        return {
            "format_version": "1.0",
            "document": meta,
            "extraction": {"tool": "diplograph-bench-generator", "version": "1", "time": stamp},
            "entities": entities,
            "facts": doc.facts,
        }

    def main_event(self, doc: _Doc) -> tuple[str, dict[str, Any], dict[str, str]]:
        """A new main event, or (sometimes) one reported before by another document."""
        rng = self.rng
        recent = [entry for entry in self.pool if (doc.day - entry[3]).days <= 10]
        if recent and rng.random() < REPORT_AGAIN:
            kind, main, actors, _ = rng.choice(recent)
            return kind, main, actors
        kind = rng.choices([k for k, _ in _STORIES], [w for _, w in _STORIES])[0]
        main, actors = self.new_main(kind, doc.day)
        self.pool.append((kind, main, actors, doc.day))
        return kind, main, actors

    def when(self, day: dt.date, *, ranged: float = 0.1) -> dict[str, str]:
        rng = self.rng
        roll = rng.random()
        if roll < ranged:
            earliest = max(day - dt.timedelta(days=rng.randint(3, 30)), START)
            return {"earliest": _iso(earliest), "latest": _iso(day)}
        if roll < ranged + 0.05:
            return {"start": _iso(day)[:7]}
        return {"start": _iso(max(day - dt.timedelta(days=rng.randint(0, 2)), START))}

    def new_main(self, kind: str, day: dt.date) -> tuple[dict[str, Any], dict[str, str]]:
        rng, world = self.rng, self.world
        a = world.state(rng)
        b = world.state(rng, a)
        top = "leader" if rng.random() < 0.2 else "fm"
        pa, pb = world.holder(a, top, day), world.holder(b, top, day)
        actors = {"a": a, "b": b, "pa": pa, "pb": pb}
        if kind == "call":
            parts = [
                {"entity": pa, "role": "initiator", "on_behalf_of": a},
                {"entity": pb, "role": "recipient", "on_behalf_of": b},
            ]
            when = self.when(day, ranged=0.0)
            if _hash(pa, pb, when) % 3 == 0:
                parts[0]["place"] = world.cities[a][0]
            return _event("PhoneCall", parts, when, duration=True), actors
        if kind == "meeting":
            roles = ("initiator", "recipient") if rng.random() < 0.5 else ("participant",) * 2
            parts = [
                {"entity": pa, "role": roles[0], "on_behalf_of": a},
                {"entity": pb, "role": roles[1], "on_behalf_of": b},
            ]
            places = (*world.cities[a], *world.cities[b])
            return _event("Meeting", parts, self.when(day), place_options=places), actors
        if kind == "visit":
            parts = [
                {"entity": pa, "role": "visitor", "on_behalf_of": a},
                {"entity": b, "role": "host"},
            ]
            return _event("Visit", parts, self.when(day), place_options=world.cities[b]), actors
        if kind == "tour":
            region = world.region_of[b]
            earliest = max(day - dt.timedelta(days=rng.randint(4, 12)), START)
            when = {"earliest": _iso(earliest), "latest": _iso(day)}
            parts = [{"entity": pa, "role": "visitor", "on_behalf_of": a}]
            actors["region"] = region
            return _event("DiplomaticTour", parts, when, place_options=(region,)), actors
        if kind == "mediation":
            c = world.state(rng, a, b)
            actors["c"] = c
            parts = [
                {"entity": c, "role": "mediator"},
                {"entity": a, "role": "party"},
                {"entity": b, "role": "party"},
            ]
            return _event("Mediation", parts, self.when(day, ranged=0.6)), actors
        if kind == "outreach":
            parts = [
                {"entity": world.posts[a]["gov"], "role": "initiator"},
                {"entity": world.holder(b, "leader", day), "role": "recipient"},
            ]
            return _event("Outreach", parts, self.when(day, ranged=1.0)), actors
        if kind == "attack":
            militia = world.militia(rng)
            target = world.target_of[militia]
            actors.update(a=target, b=world.state(rng, target), militia=militia)
            actors["pa"] = world.holder(target, "fm", day)
            actors["pb"] = world.holder(actors["b"], "fm", day)
            parts = [{"entity": militia, "role": "attacker"}, {"entity": target, "role": "target"}]
            fact = _event(
                "Attack",
                parts,
                self.when(day, ranged=0.05),
                place_options=world.cities[target],
                modalities=("asserted",) * 16 + ("hypothetical", "hypothetical", "negated"),
            )
            return fact, actors
        # a statement story: the main fact is a statement with stances
        topic = rng.choice(_TOPICS)
        fact = _event(
            "Statement",
            [{"entity": pa, "role": "speaker", "on_behalf_of": a}],
            self.when(day, ranged=0.0),
        )
        fact["stances"] = [{"polarity": rng.choice(_POLARITIES), "topic": topic}]
        return fact, actors

    # -- the rest of the story ---------------------------------------------------------------

    def story(self, doc: _Doc, kind: str, main: dict[str, Any], actors: dict[str, str]) -> None:
        rng, world = self.rng, self.world
        a, b, pa, pb = actors["a"], actors["b"], actors["pa"], actors["pb"]
        main_id = doc.add(main, summary=f"A {main['type']} reported on {_iso(doc.day)}.")
        main_fact = doc.facts[-1]
        if "time" in main_fact:
            main_fact["time"] = doc.time(main_fact["time"])
        if rng.random() < 0.3:
            spox = world.holder(a, "spox", doc.day)
            main_fact["according_to"] = spox
            doc.mention(spox)
        event_day = _main_day(main, doc.day)

        if kind == "tour" and doc.room(2):
            hosts = [s for s in world.region_states[actors["region"]] if s != a]
            for host in rng.sample(hosts, min(len(hosts), rng.randint(2, 4))):
                if not doc.room(1):
                    break
                day = event_day + dt.timedelta(days=rng.randint(0, 3))
                visit = _event(
                    "Visit",
                    [{"entity": pa, "role": "visitor"}, {"entity": host, "role": "host"}],
                    {"start": _iso(min(day, doc.day))},
                    place_options=world.cities[host][:1],
                )
                visit["sub_event_of"] = main_id
                visit["time"] = doc.time(visit["time"])
                doc.add(visit)
        if kind == "mediation" and doc.room(1):
            agreement = {
                "type": "Agreement",
                "participants": [{"entity": a, "role": "party"}, {"entity": b, "role": "party"}],
                "quality": "detente",
            }
            main_fact["resulted_in"] = [doc.add(agreement)]
        if kind == "outreach" and doc.room(1):
            call = _event(
                "PhoneCall",
                [
                    {"entity": pa, "role": "initiator", "on_behalf_of": a},
                    {"entity": pb, "role": "recipient", "on_behalf_of": b},
                ],
                {"start": _iso(doc.day)},
                duration=True,
            )
            call["time"] = doc.time(call["time"])
            main_fact["enabled"] = [doc.add(call)]
        if kind == "attack":
            militia = actors["militia"]
            if doc.room(1):
                conflict = _event(
                    "ArmedConflict",
                    [{"entity": militia, "role": "party"}, {"entity": a, "role": "party"}],
                    {"start": str(world.conflict_start[militia])},
                )
                main_fact["sub_event_of"] = doc.add(conflict)
            for sponsor in world.sponsors[militia]:
                if doc.room(1):
                    self.backing(doc, sponsor, militia)
            if doc.room(1):
                self.speech(doc, "Condemnation", pa, a, event_day, None, "attacks on civilians")

        extras = (
            ("holding", 5),
            ("readout", 3),
            ("statement", 3),
            ("appeal", 3),
            ("stance", 2),
            ("relation", 2),
            ("backing", 2),
            ("praise", 1),
        )
        names = [name for name, _ in extras]
        weights = [w for _, w in extras]
        held: set[str] = set()
        for _ in range(60):
            if not doc.room(1):
                break
            choice = rng.choices(names, weights)[0]
            if choice == "holding":
                people = [
                    k for k in doc.mentioned if world.entities[k].type == "Person" and k not in held
                ]
                if people:
                    person = people[0]
                    held.add(person)
                    self.holding(doc, person)
            elif choice == "readout" and main["type"] in ("PhoneCall", "Meeting", "Visit"):
                readout = _event(
                    "Readout",
                    [{"entity": world.posts[a]["mfa"], "role": "issuer"}],
                    {"start": _iso(event_day)},
                )
                readout["reports_on"] = main_id
                readout["time"] = doc.time(readout["time"])
                doc.add(readout, summary="The foreign ministry published its account.")
            elif choice == "statement":
                speaker, state = (pa, a) if rng.random() < 0.6 else (pb, b)
                self.speech(doc, "Statement", speaker, state, event_day, main_id)
            elif choice == "appeal":
                initiator, state, other = (pa, a, b) if rng.random() < 0.5 else (pb, b, a)
                appeal = _event(
                    "Appeal",
                    [
                        {"entity": initiator, "role": "initiator", "on_behalf_of": state},
                        {"entity": world.posts[other]["gov"], "role": "recipient"},
                    ],
                    {"start": _iso(event_day)},
                )
                appeal["requested_action"] = rng.choice(_ACTIONS)
                appeal["time"] = doc.time(appeal["time"])
                if main["type"] != "Attack":
                    appeal["sub_event_of"] = main_id
                doc.add(appeal)
            elif choice == "stance":
                stance: dict[str, Any] = {
                    "type": "Stance",
                    "participants": [{"entity": rng.choice((a, b)), "role": "holder"}],
                    "polarity": rng.choice(_POLARITIES),
                    "topic": rng.choice(_TOPICS),
                }
                if rng.random() < 0.3:
                    stance["concerns"] = [main_id]
                doc.add(stance)
            elif choice in ("relation", "praise"):
                relation = {
                    "type": "BilateralRelation",
                    "participants": [
                        {"entity": a, "role": "party"},
                        {"entity": b, "role": "party"},
                    ],
                    "quality": rng.choice(_QUALITIES),
                }
                rel_id = doc.add(relation)
                if choice == "praise" and doc.room(1):
                    self.speech(doc, "Praise", pb, b, event_day, None)
                    doc.facts[-1]["concerns"] = [rel_id]
            elif choice == "backing":
                militia = world.militia(rng)
                self.backing(doc, rng.choice(world.sponsors[militia]), militia)

    def speech(
        self,
        doc: _Doc,
        kind: str,
        speaker: str,
        state: str,
        day: dt.date,
        parent: str | None,
        topic: str | None = None,
    ) -> str:
        rng = self.rng
        fact = _event(
            kind,
            [{"entity": speaker, "role": "speaker", "on_behalf_of": state}],
            {"start": _iso(day)},
        )
        polarity = "condemns" if kind == "Condemnation" else rng.choice(_POLARITIES)
        fact["stances"] = [
            {"polarity": polarity, "topic": topic or rng.choice(_TOPICS)}
            for _ in range(1 if topic else rng.randint(1, 2))
        ]
        if len(fact["stances"]) == 2 and fact["stances"][0] == fact["stances"][1]:
            fact["stances"].pop()
        if rng.random() < 0.3:
            fact["reiterated"] = True
        if parent is not None and rng.random() < 0.7:
            fact["sub_event_of"] = parent
        fact["time"] = doc.time(fact["time"])
        return doc.add(fact)

    def backing(self, doc: _Doc, sponsor: str, client: str) -> str:
        fact = {
            "type": "Backing",
            "participants": [
                {"entity": sponsor, "role": "sponsor"},
                {"entity": client, "role": "client"},
            ],
        }
        fid = doc.add(fact)
        # an umbrella group's own sponsor, so that backedBy+ paths have two steps
        for upstream in self.world.sponsors.get(sponsor, ()):
            if doc.room(1):
                self.backing(doc, upstream, sponsor)
        return fid

    def holding(self, doc: _Doc, person: str) -> str:
        term = self.world.term_of[person]
        when: dict[str, str] = {"start": _iso(term.start)}
        if term.end < doc.day:
            when["end"] = _iso(term.end)
        fact = {
            "type": "PostHolding",
            "participants": [{"entity": person, "role": "holder"}],
            "post": term.post,
            "time": when,
        }
        return doc.add(fact)


def _main_day(main: dict[str, Any], default: dt.date) -> dt.date:
    when = main.get("time") or {}
    value = when.get("start") or when.get("latest")
    if isinstance(value, str) and len(value) == 10:
        return dt.date.fromisoformat(value)
    return default


# ------------------------------------------------------------------------------------------------
# Output and the command line


def generate(n_docs: int, seed: int = 1, *, after: int = 0) -> Iterator[dict[str, Any]]:
    """``n_docs`` facts documents (as JSON values), the same ones for the same arguments.

    ``after=N`` gives instead the ``n_docs`` documents that follow the first N of the N-document
    data set of this seed: the same world and wire, continued past its end date (the documents
    the benchmark adds to a store that already holds the first N).
    """
    gen = Generator(seed, after or n_docs)
    for index in range(after):
        gen.document(index)
    for index in range(after, after + n_docs):
        yield gen.document(index)


def write_jsonl(n_docs: int, seed: int, out: IO[str], *, after: int = 0) -> int:
    """Write ``n_docs`` documents as JSON Lines to ``out``; return the number of bytes written."""
    written = 0
    for doc in generate(n_docs, seed, after=after):
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"
        out.write(line)
        written += len(line.encode())
    return written


def parse_count(text: str) -> int:
    """``1000``, ``1k``, ``10k``, ``1M`` → an int."""
    text = text.strip().lower().replace("_", "")
    factor = 1
    if text.endswith("k"):
        factor, text = 1_000, text[:-1]
    elif text.endswith("m"):
        factor, text = 1_000_000, text[:-1]
    return int(float(text) * factor)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generate", description="Write synthetic facts documents (JSONL)."
    )
    parser.add_argument("--docs", type=parse_count, default=1000, help="how many (1000, 10k)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("-o", "--output", default="-", help="output file, - for stdout")
    parser.add_argument(
        "--after",
        type=parse_count,
        default=0,
        metavar="N",
        help="write the documents that follow the first N of the N-document data set",
    )
    args = parser.parse_args(argv)
    if args.output == "-":
        write_jsonl(args.docs, args.seed, sys.stdout, after=args.after)
        return 0
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        size = write_jsonl(args.docs, args.seed, out, after=args.after)
    tmp.replace(path)
    print(f"wrote {args.docs} documents ({size / 1e6:.1f} MB) to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
