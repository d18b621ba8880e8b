"""One settings object for the whole program.

Values come, in rising priority, from defaults, ``DIPLOGRAPH_*`` environment variables and the
CLI flags (which the CLI passes in as keyword arguments). Code below the CLI and the app factory
never reads the environment: it receives a :class:`Settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from diplograph.loader.errors import ConfigError
from diplograph.loader.namespaces import DEFAULT_BASE_IRI


class Settings(BaseSettings):
    """Every setting diplograph has. Environment variable: ``DIPLOGRAPH_`` + the upper-case name."""

    model_config = SettingsConfigDict(env_prefix="DIPLOGRAPH_", extra="forbid", frozen=True)

    # --- store -------------------------------------------------------------------------------
    store: Literal["embedded", "remote", "memory"] = Field(
        "embedded",
        description="embedded: Oxigraph on disk at store_path; memory: Oxigraph in memory "
        "(tests, demos); remote: a SPARQL 1.1 triple store at the remote_* URLs.",
    )
    store_path: Path = Field(Path("data/store"), description="Directory of the embedded store.")
    remote_query_url: str | None = Field(None, description="SPARQL 1.1 Query endpoint URL.")
    remote_update_url: str | None = Field(
        None, description="SPARQL 1.1 Update endpoint URL (defaults to remote_query_url)."
    )
    remote_gsp_url: str | None = Field(
        None, description="Graph Store HTTP Protocol endpoint URL (optional; faster bulk writes)."
    )
    remote_user: str | None = Field(None, description="User for HTTP basic/digest auth.")
    remote_password: SecretStr | None = Field(None, description="Password for the remote store.")
    remote_timeout: float = Field(60.0, gt=0, description="Seconds to wait for the remote store.")
    remote_write_requests: int = Field(
        4,
        ge=1,
        le=64,
        description="Graph Store Protocol requests a commit sends at once (remote_gsp_url).",
    )

    # --- IRIs --------------------------------------------------------------------------------
    base_iri: str = Field(
        DEFAULT_BASE_IRI, description="Base of every IRI the loader mints (ends with '/')."
    )

    # --- loading -----------------------------------------------------------------------------
    batch_size: int = Field(
        100, ge=1, le=10_000, description="Documents identified and committed together."
    )
    validation_chunk: int = Field(
        50,
        ge=1,
        le=10_000,
        description=(
            "Documents of a batch validated together; with several load workers, a batch's "
            "chunks are validated in parallel."
        ),
    )
    load_workers: int = Field(
        1,
        ge=1,
        le=256,
        description=(
            "Processes that validate a load's documents (the loading process included); "
            "diplograph load and import use the machine's cores unless this is set."
        ),
    )
    cluster: str | None = Field(
        None,
        description=(
            "A Dask cluster that validates a load's documents: a scheduler's tcp://host:port, "
            "or local:N for N worker processes on this machine (needs diplograph[cluster])."
        ),
    )
    unknown_fields: Literal["error", "warn"] = Field(
        "error", description="What an unknown field in a facts record is: an error or a warning."
    )
    validation_engine: Literal["sparql", "pyshacl"] = Field(
        "sparql",
        description=(
            "How the SHACL shapes run: sparql, compiled to SPARQL queries (fast); pyshacl, the "
            "reference implementation (slower)."
        ),
    )

    # --- server ------------------------------------------------------------------------------
    host: str = Field("127.0.0.1", description="Address the server listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port the server listens on.")
    public_url: str | None = Field(
        None, description="The server's public URL, when behind a proxy (else taken per request)."
    )
    query_timeout: float = Field(5.0, gt=0, description="Seconds a query may run.")
    max_result_rows: int = Field(100_000, ge=1, description="Rows a SELECT may return.")
    max_body_bytes: int = Field(10_000_000, ge=1024, description="Largest request body accepted.")
    write_token: SecretStr | None = Field(
        None, description="Bearer token for writes; writes are disabled when unset."
    )
    hold_events: bool = Field(
        True,
        description=(
            "A server with writes holds, between loads, the events its same-event checks "
            "read: faster loads into a large store, for more memory."
        ),
    )
    prepare_writes: bool = Field(
        True,
        description=(
            "A server with writes reads the store's claims, and holds the recent events of its "
            "checks, as it starts, so that its first write does not wait for them."
        ),
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (never '*' with credentials)."
    )
    union_default_graph: bool = Field(
        True, description="Query the union of all named graphs as the default graph."
    )
    allow_service: list[str] = Field(
        default_factory=list,
        description="IRI prefixes SERVICE and LOAD may reach; empty means none (the default).",
    )

    # --- query workers (api/execution.py, api/workers.py, api/admission.py) -------------------
    query_workers: int | None = Field(
        None,
        ge=1,
        le=256,
        description="Queries run at once: worker processes on the on-disk store (default two "
        "per core, 4 to 16), worker threads otherwise (default one per core, 2 to 8).",
    )
    query_client_limit: int | None = Field(
        None,
        ge=1,
        description="Queries one client (address) may run at once (default: workers - 1).",
    )
    query_client_queue: int = Field(
        16, ge=0, description="Queries one client may have waiting; one more is refused with 429."
    )
    query_queue: int = Field(
        64, ge=0, description="Queries that may wait in all; one more is refused with 503."
    )
    query_heavy_seconds: float = Field(
        0.25,
        gt=0,
        description="A query that has run this long is heavy: its process gets the CPU only when "
        "no other query wants it, and its client's next queries queue behind quick clients'.",
    )
    query_max_processes: int | None = Field(
        None,
        ge=1,
        description="Worker processes at most, the spares and those started for waiting "
        "queries while heavy ones hold the pool included (default: four times the workers).",
    )
    query_spare_processes: int = Field(
        0,
        ge=0,
        description="Idle worker processes kept ready while a heavy query runs beside others, so "
        "that a query that arrives while heavy ones hold the workers does not wait for a "
        "process to start (within query_max_processes).",
    )

    @field_validator("query_max_processes")
    @classmethod
    def _max_processes_cover_workers(cls, value: int | None, info: ValidationInfo) -> int | None:
        workers = info.data.get("query_workers")
        if value is not None and workers is not None and value < workers:
            raise ValueError(f"must be at least query_workers ({workers})")
        return value

    @field_validator("base_iri")
    @classmethod
    def _base_ends_with_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or not value.endswith("/"):
            raise ValueError("must be an http(s) IRI ending with '/'")
        return value


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings` from the environment plus ``overrides`` (None values are ignored).

    Raises :class:`ConfigError` naming the setting and the value when one is invalid.
    """
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"DIPLOGRAPH_{'.'.join(str(p) for p in err['loc']).upper()}="
            f"{err.get('input')!r}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from None
