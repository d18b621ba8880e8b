"""The vocabularies of the facts format: entity and fact types, roles, polarities, modalities and
relation qualities. Each member is a name the ontology knows (a class, or a code of a code list).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["EntityType", "FactType", "Modality", "Polarity", "RelationQuality", "Role"]


class EntityType(StrEnum):
    """The kinds of entity a document can mention; each is a class of the ontology."""

    Person = "Person"
    State = "State"
    Government = "Government"
    GovernmentBody = "GovernmentBody"
    ForeignMinistry = "ForeignMinistry"
    Organization = "Organization"
    NonStateArmedGroup = "NonStateArmedGroup"
    Militia = "Militia"
    Place = "Place"
    City = "City"
    Region = "Region"
    Post = "Post"
    DiplomaticPost = "DiplomaticPost"


class FactType(StrEnum):
    """The kinds of fact; each is a class of the ontology (events, situations, post holdings)."""

    # events of a general class, for reports no narrower class fits (an event dataset's code
    # such as CAMEO 036, "express intent to meet or negotiate", is a diplomatic event)
    Event = "Event"
    DiplomaticEvent = "DiplomaticEvent"
    SpeechAct = "SpeechAct"
    ViolentEvent = "ViolentEvent"
    # diplomatic events
    Consultation = "Consultation"
    PhoneCall = "PhoneCall"
    Meeting = "Meeting"
    Visit = "Visit"
    DiplomaticTour = "DiplomaticTour"
    Mediation = "Mediation"
    Outreach = "Outreach"
    Statement = "Statement"
    Readout = "Readout"
    Appeal = "Appeal"
    Condemnation = "Condemnation"
    Praise = "Praise"
    # conflict events
    Attack = "Attack"
    ArmedConflict = "ArmedConflict"
    # situations
    BilateralRelation = "BilateralRelation"
    Backing = "Backing"
    Stance = "Stance"
    Agreement = "Agreement"
    # posts held over time
    PostHolding = "PostHolding"


class Role(StrEnum):
    """The part a participant plays in a fact."""

    initiator = "initiator"
    recipient = "recipient"
    participant = "participant"
    party = "party"
    mediator = "mediator"
    speaker = "speaker"
    issuer = "issuer"
    visitor = "visitor"
    host = "host"
    attacker = "attacker"
    target = "target"
    sponsor = "sponsor"
    client = "client"
    holder = "holder"


class Polarity(StrEnum):
    """The stance a statement takes towards its topic."""

    supports = "supports"
    opposes = "opposes"
    condemns = "condemns"
    urges = "urges"
    concerned_about = "concerned-about"


class Modality(StrEnum):
    """Whether the fact happened, or is feared, planned, denied or past (PLOVER's modes)."""

    asserted = "asserted"
    hypothetical = "hypothetical"
    future = "future"
    negated = "negated"
    historical = "historical"


class RelationQuality(StrEnum):
    """How a bilateral relation or agreement is described."""

    close = "close"
    tense = "tense"
    improving = "improving"
    hostile = "hostile"
    detente = "detente"
    communication_reopened = "communication-reopened"
