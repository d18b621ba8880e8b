"""Summary graphs: counts for the heaviest analyst questions, kept exact in the same transaction.

The summary lives in its own named graph, ``{base}graph/summary``
(:meth:`~loader.iris.IriMinter.summary_graph`), and answers the heaviest analyst questions
without scanning the facts (docs/mapping.md, "Summaries"):

* **interactions** — for each pair of agents ``a``, ``b`` with ``STR(a) < STR(b)``, the number of
  distinct ``dip:Event`` nodes that have both as ``dip:hasParticipant`` (the question of
  ``bench/queries/q04_who_talks_to_whom.rq``); a ``dip:InteractionCount`` node per pair;
* **events by type and month** — for each type ``t`` of an event and each month
  ``m = SUBSTR(STR(startDate), 1, 7)``, the number of distinct ``dip:Event`` nodes of type ``t``
  with a start date in ``m`` (``q05``); a ``dip:EventCountByMonth`` node per key;
* **quads** — the number of quads in all named graphs, the summary's own included (``q08``), on
  the graph's own node, typed ``dip:Summary``;
* **top interactions** — the interaction counts at or above the :data:`TOP_INTERACTIONS`-th
  highest, listed on the graph's node (``dip:topInteraction``; loader/summary/top.py);
* **corroborations** — for each ``dip:Event`` derived from two or more distinct documents
  (``prov:wasDerivedFrom``), their number (``q10``); a ``dip:CorroborationCount`` node per event;
* **ranks** — the listed interaction counts and the corroboration counts at or above the
  ``TOP_CORROBORATIONS``-th highest, numbered in their question's order
  (``dip:interactionRank``, ``dip:corroborationRank``; loader/summary/ranks.py), so that the
  questions read ranks instead of sorting IRIs;
* **type ranks** — each event type the month counts name, numbered in the order of its IRI
  (``dip:typeRank``; loader/summary/type_ranks.py), so that ``q05`` sorts integers.

Counts are taken over all named graphs together, so an event that several documents report
counts once. A key whose count drops to zero has no node.

The modules: ``keeper`` (:class:`Summary`, the one keeper, and :func:`guard_raw_writes`),
``keys`` (an event's keys and source count, in Python and in SPARQL), ``upkeep`` (the
operations that keep the summary exact across a commit, inside its transaction),
``precomputed`` (the same, computed before the transaction on a store only this process writes
to), ``rebuild``, ``top``, ``ranks``, ``type_ranks`` and
``graph`` (the summary graph's templates, written through the store's layout methods).
"""

from __future__ import annotations

from diplograph.loader.summary.keeper import Summary, SummaryState, guard_raw_writes
from diplograph.loader.summary.top import TOP_INTERACTIONS

__all__ = ["TOP_INTERACTIONS", "Summary", "SummaryState", "guard_raw_writes"]
