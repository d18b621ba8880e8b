"""The engines diplograph is measured against, one module each.

``raw_oxigraph`` (the floor: the mapped quads inserted with no validation), ``baseline`` (map,
then validate the whole graph with pySHACL), ``virtuoso``, ``rdflib_endpoint``, and
``remote_store`` (Virtuoso driven by diplograph as its remote store).
"""
