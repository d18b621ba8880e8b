"""POST /facts and POST /validate: the loader's validation and load over HTTP.

The report must be the one ``diplograph load --format json`` prints for the same input; a
rejected document answers 422 with its violations; both routes need the write token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from httpx import Response

from diplograph.api.app import create_app
from diplograph.cli import main
from diplograph.loader.config import load_settings
from diplograph.loader.store.embedded import EmbeddedStore
from tests.conftest import DATA

TOKEN = "ingest-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CALL = (DATA / "api_b" / "call.json").read_text(encoding="utf-8")
BATCH = (DATA / "api_b" / "batch.jsonl").read_text(encoding="utf-8")
JSON = {"Content-Type": "application/json", **AUTH}
NDJSON = {"Content-Type": "application/x-ndjson", **AUTH}
BASE = "https://w3id.org/diplograph/"


@pytest.fixture
def store() -> Iterator[EmbeddedStore]:
    store = EmbeddedStore(None)
    yield store
    store.close()


def make_client(store: EmbeddedStore, **overrides: Any) -> TestClient:
    values: dict[str, Any] = {"store": "memory", "write_token": TOKEN}
    values.update(overrides)
    return TestClient(create_app(load_settings(**values), store))


@pytest.fixture
def client(store: EmbeddedStore) -> Iterator[TestClient]:
    with make_client(store) as c:
        yield c


def cli_report(text: str, *command: str) -> dict[str, Any]:
    """What ``diplograph <command> --format json -`` prints for ``text`` on a fresh store."""
    result = CliRunner().invoke(
        main,
        [*command, "--store", "memory", "--format", "json", "--no-progress", "-"],
        input=text,
        catch_exceptions=False,
    )
    report: dict[str, Any] = json.loads(result.stdout)
    for rejection in report["rejections"]:
        rejection["source"] = rejection["source"].replace("<stdin>", "<request>")
    return report


def without_error_fields(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ("error", "message", "status")}


# --- loading --------------------------------------------------------------------------------------


def test_a_valid_document_loads_and_then_dereferences(
    client: TestClient, store: EmbeddedStore
) -> None:
    response = client.post("/facts", content=CALL, headers=JSON)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["documents"] == {
        "seen": 1,
        "loaded": 1,
        "unchanged": 0,
        "rejected": 0,
        "remapped": 0,
    }
    assert report["triples"]["loaded"] > 20
    assert report["rejections"] == []
    assert BASE + "id/doc/api-b-wire-call" in store.graph_names()
    person = client.get("/id/person/ana-diplomat", headers={"Accept": "text/turtle"})
    assert person.status_code == 200
    again = client.post("/facts", content=CALL, headers=JSON)
    assert again.status_code == 200
    assert again.json()["documents"]["unchanged"] == 1


# --- the store's claims, kept by the server between requests (loader/reconcile.py) -----------


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The stored documents' kept facts that reconcilers parse from now on."""
    from diplograph.loader import reconcile

    calls: list[object] = []
    real = reconcile.kept_claims
    monkeypatch.setattr(reconcile, "kept_claims", lambda data: calls.append(data) or real(data))
    return calls


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The answers of each check that the claims a reconciler holds are still the store's."""
    from diplograph.loader.reconcile import Reconciler

    answers: list[bool] = []
    real = Reconciler._still_holds

    def checked(self: Reconciler) -> bool:
        answers.append(real(self))
        return answers[-1]

    monkeypatch.setattr(Reconciler, "_still_holds", checked)
    return answers


FIRST_OF_BATCH = BATCH.splitlines()[0]


def after_a_load(client: TestClient, recorded: list[Any], path: str = "/facts") -> Response:
    """``recorded`` emptied after a first load, then one more document posted to ``path``
    (answered 200)."""
    assert client.post("/facts", content=CALL, headers=JSON).status_code == 200
    recorded.clear()
    response = client.post(path, content=FIRST_OF_BATCH, headers=NDJSON)
    assert response.status_code == 200, response.text
    return response


def test_a_load_after_a_load_reads_no_stored_document_again(
    client: TestClient, parsed: list[object]
) -> None:
    # Each load marks the summary stale first, a write the loader did not make (100 documents
    # into a store of 100k: 29 s of 39 s were reading every document's claims again after it).
    response = after_a_load(client, parsed)
    assert response.json()["documents"]["loaded"] == 1
    assert parsed == []


def test_a_load_after_a_load_does_not_check_the_claims_again(
    client: TestClient, checks: list[bool]
) -> None:
    # The summary's mark before each load writes the summary graph alone: the claims held
    # still hold, with no check of every document's kept facts (1.8 s at 100k documents).
    after_a_load(client, checks)
    assert checks == []


def test_a_load_after_a_sparql_update_checks_the_claims_again(
    client: TestClient, checks: list[bool]
) -> None:
    assert client.post("/facts", content=CALL, headers=JSON).status_code == 200
    update = "INSERT DATA { GRAPH <urn:x:other> { <urn:x:s> <urn:x:p> <urn:x:o> } }"
    headers = {"Content-Type": "application/sparql-update", **AUTH}
    assert client.post("/sparql", content=update, headers=headers).status_code in (200, 204)
    checks.clear()
    response = client.post("/facts", content=FIRST_OF_BATCH, headers=NDJSON)
    assert response.status_code == 200, response.text
    assert checks == [True]


def test_a_dry_run_after_a_load_reads_no_stored_document(
    client: TestClient, parsed: list[object]
) -> None:
    after_a_load(client, parsed, "/validate")
    assert parsed == []


def test_a_dry_run_holds_the_write_lock(client: TestClient) -> None:
    # It reads the claims that writes keep in memory: a commit beside it would change them.
    held: list[bool] = []
    real = client.app.state.write_lock  # type: ignore[attr-defined]

    class Recording:
        def __enter__(self) -> None:
            real.acquire()
            held.append(True)

        def __exit__(self, *exc: object) -> None:
            real.release()

    client.app.state.write_lock = Recording()  # type: ignore[attr-defined]
    response = client.post("/validate", content=CALL, headers=JSON)
    assert response.status_code == 200, response.text
    assert held == [True]


def test_the_report_is_the_clis_report(client: TestClient) -> None:
    expected = cli_report(BATCH, "load")
    response = client.post("/facts", content=BATCH, headers=NDJSON)
    assert response.status_code == 422
    assert without_error_fields(response.json()) == expected


def test_the_dry_run_report_is_the_clis_validate_report(client: TestClient) -> None:
    expected = cli_report(BATCH, "validate")
    response = client.post("/validate", content=BATCH, headers=NDJSON)
    assert response.status_code == 422
    assert without_error_fields(response.json()) == expected


def test_rejected_documents_answer_422_with_the_violations_and_the_rest_loads(
    client: TestClient, store: EmbeddedStore
) -> None:
    response = client.post("/facts", content=BATCH, headers=NDJSON)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RejectedError"
    assert body["status"] == 422
    assert "2 of 3" in body["message"]
    assert body["documents"] == {
        "seen": 3,
        "loaded": 1,
        "unchanged": 0,
        "rejected": 2,
        "remapped": 0,
    }
    shacl, not_json = body["rejections"]
    assert (shacl["source"], shacl["line"], shacl["record"]) == ("<request>", 2, "api-b-batch-2")
    [violation] = shacl["violations"]
    assert violation["focus_node"].startswith(BASE + "id/event/phonecall-")
    assert violation["field"] == "facts[0]"
    assert violation["path"] == "dip:hasParticipant"
    assert violation["constraint"].startswith("sh:")
    assert violation["severity"] == "Violation"
    assert "two different participants" in violation["message"]
    assert not_json["line"] == 3
    assert not_json["violations"][0]["message"].startswith("not valid JSON")
    # the valid document of the batch was loaded, the invalid one was not
    graphs = store.graph_names()
    assert BASE + "id/doc/api-b-batch-1" in graphs
    assert BASE + "id/doc/api-b-batch-2" not in graphs


def test_a_json_list_of_documents_loads_each(client: TestClient) -> None:
    first, _, _ = BATCH.splitlines()
    body = "[" + CALL + "," + first + "]"
    response = client.post("/facts", content=body, headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["documents"]["loaded"] == 2


def test_invalid_json_in_a_json_body_is_a_rejection(client: TestClient) -> None:
    response = client.post("/facts", content='{"document": ', headers=JSON)
    assert response.status_code == 422
    [rejection] = response.json()["rejections"]
    assert rejection["violations"][0]["constraint"] == "facts-format"


def test_a_format_error_names_the_field(client: TestClient) -> None:
    document = json.loads(CALL)
    document["facts"][0]["confidence"] = 7
    response = client.post("/facts", json=document, headers=AUTH)
    assert response.status_code == 422
    [violation] = response.json()["rejections"][0]["violations"]
    assert violation["field"] == "facts[0].confidence"


def test_strict_stops_at_the_first_invalid_document(
    client: TestClient, store: EmbeddedStore
) -> None:
    response = client.post("/facts", params={"strict": "true"}, content=BATCH, headers=NDJSON)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RejectedError"
    assert "api-b-batch-2" in body["message"]
    assert [r["line"] for r in body["rejections"]] == [2]
    assert BASE + "id/doc/api-b-batch-1" in store.graph_names()


def test_unknown_fields_can_be_warnings(client: TestClient) -> None:
    document = json.loads(CALL)
    document["document"]["colour"] = "red"
    rejected = client.post("/facts", json=document, headers=AUTH)
    assert rejected.status_code == 422
    warned = client.post("/facts", params={"unknown_fields": "warn"}, json=document, headers=AUTH)
    assert warned.status_code == 200
    assert any("colour" in w for w in warned.json()["warnings"])
    assert (
        client.post(
            "/facts", params={"unknown_fields": "x"}, json=document, headers=AUTH
        ).status_code
        == 400
    )


# --- the dry run ----------------------------------------------------------------------------------


def test_validate_writes_nothing(client: TestClient, store: EmbeddedStore) -> None:
    response = client.post("/validate", content=CALL, headers=JSON)
    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True
    assert body["documents"]["loaded"] == 1  # would be loaded
    assert store.count() == 0
    rejected = client.post("/validate", content=BATCH, headers=NDJSON)
    assert rejected.status_code == 422
    assert "would be rejected" in rejected.json()["message"]
    assert store.count() == 0


# --- requests that are refused --------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/facts", "/validate"])
def test_both_routes_need_the_write_token(store: EmbeddedStore, path: str) -> None:
    with make_client(store) as c:
        missing = c.post(path, content=CALL, headers={"Content-Type": "application/json"})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = c.post(
            path,
            content=CALL,
            headers={"Content-Type": "application/json", "Authorization": "Bearer nope"},
        )
        assert wrong.status_code == 401
    with make_client(store, write_token=None) as c:
        disabled = c.post(path, content=CALL, headers=JSON)
        assert disabled.status_code == 403
        assert "DIPLOGRAPH_WRITE_TOKEN" in disabled.json()["message"]
    assert store.count() == 0


def test_other_media_types_empty_and_non_utf8_bodies_are_refused(client: TestClient) -> None:
    text = client.post("/facts", content=CALL, headers={"Content-Type": "text/plain", **AUTH})
    assert text.status_code == 415
    assert "application/x-ndjson" in text.json()["message"]
    assert client.post("/facts", content="  \n", headers=NDJSON).status_code == 400
    latin1 = client.post("/facts", content='{"x": "caf\xe9"}'.encode("latin-1"), headers=JSON)
    assert latin1.status_code == 400
    assert "UTF-8" in latin1.json()["message"]


def test_a_body_over_the_cap_is_413(store: EmbeddedStore) -> None:
    with make_client(store, max_body_bytes=2048) as c:
        response = c.post("/facts", content=CALL + " " * 3000, headers=JSON)
    assert response.status_code == 413
    assert store.count() == 0


def test_the_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/facts", "/validate"):
        operation = paths[path]["post"]
        assert "application/x-ndjson" in operation["requestBody"]["content"]
        assert "422" in operation["responses"]
