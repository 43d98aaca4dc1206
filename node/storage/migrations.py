"""Schema migrations: named, numbered steps, each applied once in its own transaction.

Applied by ``Database.open()`` on the writer thread before anything else touches the file.
The names of applied steps are kept in ``_migrations``, so reopening applies nothing new.
Add a step by appending ``("000N_what_it_does", fn)``; never edit a released step.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import sqlite_utils

from node.storage import fts

Step = tuple[str, Callable[[sqlite3.Connection], None]]


def _initial_schema(conn: sqlite3.Connection) -> None:
    db = sqlite_utils.Database(conn, execute_plugins=False, recursive_triggers=False)
    db.table("_meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    # The records this node holds; holder is the node itself, JSON for the tuple fields.
    record_columns: dict[str, type] = {
        "record_id": str, "holder": str, "archival_code": str, "fonds": str,
        "category": str, "year": int, "retention": str, "title": str, "creator": str,
        "date": str, "access": str, "subjects": str, "subject_index": str, "files": str,
        "version": int, "deleted": int,
    }  # fmt: skip
    db.table("records").create(record_columns, pk="record_id", not_null=set(record_columns))
    # The aggregated catalogue of the subtree; ``id`` is also the FTS rowid.
    entry_columns: dict[str, type] = {
        "id": int, "holder": str, "record_id": str, "version": int, "archival_code": str,
        "category": str, "year": int, "retention": str, "title": str, "creator": str,
        "access": str, "holder_name": str, "subjects": str, "subject_index": str,
        "content_sha256": str, "content_size": int, "deleted": int,
    }  # fmt: skip
    db.table("catalogue").create(entry_columns, pk="id", not_null=set(entry_columns) - {"id"})
    # (holder, record_id) is the upsert key, and holder first serves scope (prefix) ranges.
    db.table("catalogue").create_index(["holder", "record_id"], unique=True)
    # Filter-only searches and counts over live entries, without reading the table.
    conn.execute(
        "CREATE INDEX catalogue_live ON catalogue(holder, category, year) WHERE deleted = 0"
    )
    db.table("changes").create(
        {"seq": int, "holder": str, "record_id": str, "version": int},
        pk="seq",
        not_null={"holder", "record_id", "version"},
    )
    db.table("child_cursors").create(
        {"child": str, "cursor": int, "updated_at": float}, pk="child", not_null={"cursor"}
    )
    db.table("peer_cursors").create(
        {"peer": str, "cursor": int, "updated_at": float, "last_error": str},
        pk="peer",
        not_null={"cursor"},
    )
    conn.execute(fts.CREATE_FTS)


def _trust_tables(conn: sqlite3.Connection) -> None:
    """The directory log and head, enrolment applications, bans, unreported trust events
    (``storage/trust.py``). Statement by statement: ``executescript`` would commit."""
    script = """
        CREATE TABLE directory_events (version INTEGER PRIMARY KEY, body BLOB NOT NULL);
        CREATE TABLE directory_head (id INTEGER PRIMARY KEY CHECK (id = 1), body TEXT NOT NULL);
        CREATE TABLE enrolments (
            code TEXT PRIMARY KEY, name TEXT NOT NULL, public_key BLOB NOT NULL,
            address TEXT NOT NULL, requested_at REAL NOT NULL, status TEXT NOT NULL,
            decided_at REAL, chain_json TEXT NOT NULL, note TEXT NOT NULL
        );
        CREATE TABLE bans (key_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at REAL NOT NULL);
        CREATE TABLE trust_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, body BLOB NOT NULL)
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _sync_outbox(conn: sqlite3.Connection) -> None:
    """Per-link backoff kept across restarts (``storage/peers.py``), the time of each change
    (a link's lag in seconds), and the acknowledgements of children's batches by batch id
    (``storage/catalogue.py``), so a resent batch gets the stored answer after a restart too."""
    script = """
        ALTER TABLE peer_cursors ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE peer_cursors ADD COLUMN next_attempt_at REAL;
        ALTER TABLE peer_cursors ADD COLUMN last_error_at REAL;
        ALTER TABLE peer_cursors ADD COLUMN last_success_at REAL;
        ALTER TABLE changes ADD COLUMN at REAL;
        CREATE TABLE sync_batches (
            id INTEGER PRIMARY KEY, origin TEXT NOT NULL, batch_id TEXT NOT NULL,
            cursor INTEGER NOT NULL, applied INTEGER NOT NULL, at REAL NOT NULL
        );
        CREATE UNIQUE INDEX sync_batches_key ON sync_batches(origin, batch_id)
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _search_compact_index(conn: sqlite3.Connection) -> None:
    """The full-text index without per-column sizes, with retention and access facets.

    Dropped and created empty here; ``fts.ensure_current`` (run after the steps) refills it
    from the catalogue, because forgetting the tokenizer version marks it as stale.
    """
    conn.execute(f"DROP TABLE IF EXISTS {fts.FTS_TABLE}")
    conn.execute(fts.CREATE_FTS_COMPACT)
    conn.execute("DELETE FROM _meta WHERE key = 'fts_tokenizer'")


def _catalogue_versions(conn: sqlite3.Connection) -> None:
    """Anti-entropy's shallow digests (key, version, tombstone) from the index alone."""
    conn.execute(
        "CREATE INDEX catalogue_versions ON catalogue(holder, record_id, version, deleted)"
    )


def _accounts(conn: sqlite3.Connection) -> None:
    """Staff accounts of this node, their roles here, API tokens and sessions (both stored as
    sha256 digests, never in clear), and failed-login counters for rate limiting
    (``storage/accounts.py``). The node is the database's own, so no table names it."""
    script = """
        CREATE TABLE accounts (
            name TEXT PRIMARY KEY, display_name TEXT NOT NULL, password_hash TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL
        );
        CREATE TABLE account_roles (
            account TEXT NOT NULL REFERENCES accounts(name), role TEXT NOT NULL,
            granted_at REAL NOT NULL, PRIMARY KEY (account, role)
        );
        CREATE TABLE api_tokens (
            digest TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(name),
            label TEXT NOT NULL, created_at REAL NOT NULL, last_used_at REAL
        );
        CREATE INDEX api_tokens_account ON api_tokens(account);
        CREATE TABLE sessions (
            digest TEXT PRIMARY KEY, account TEXT NOT NULL REFERENCES accounts(name),
            csrf TEXT NOT NULL, created_at REAL NOT NULL, last_seen_at REAL NOT NULL
        );
        CREATE INDEX sessions_account ON sessions(account);
        CREATE TABLE login_failures (
            key TEXT PRIMARY KEY, failures INTEGER NOT NULL, first_at REAL NOT NULL,
            locked_until REAL
        )
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _replay_and_pins(conn: sqlite3.Connection) -> None:
    """Nonces of state-changing calls kept across restarts (``storage/trust.py``
    ``SeenNonces``), pruned by their expiry, so a call captured on the wire and replayed
    after the receiver restarts is refused as it would have been before."""
    conn.execute(
        "CREATE TABLE seen_nonces (origin TEXT NOT NULL, nonce BLOB NOT NULL, "
        "expires_ms INTEGER NOT NULL, PRIMARY KEY (origin, nonce))"
    )
    conn.execute("CREATE INDEX seen_nonces_expiry ON seen_nonces(expires_ms)")


def _record_files(conn: sqlite3.Connection) -> None:
    """Which of this node's records name which content, so a fetch can tell at once whether
    the bytes it would release also belong to a record that may not be released
    (``federation/release.py``); filled from the records already held. And the catalogue's
    entries of records that are not open lose the content hash and size they used to carry,
    as ``records.catalogue_entry`` now leaves them out."""
    conn.execute(
        "CREATE TABLE record_files (sha256 TEXT NOT NULL, record_id TEXT NOT NULL, "
        "PRIMARY KEY (sha256, record_id)) WITHOUT ROWID"
    )
    # a put replaces a record's files: found by record_id, not by a scan
    conn.execute("CREATE INDEX record_files_record ON record_files(record_id)")
    conn.execute(
        "INSERT OR IGNORE INTO record_files(sha256, record_id) "
        "SELECT json_extract(f.value, '$.sha256'), r.record_id FROM records r, json_each(r.files) f"
    )
    conn.execute(
        "UPDATE catalogue SET content_sha256 = '', content_size = 0 "
        "WHERE access != 'open' AND (content_sha256 != '' OR content_size != 0)"
    )


def _audit_log(conn: sqlite3.Connection) -> None:
    """The hash-chained audit log, this node's signed checkpoints of it, and its children's
    checkpoints it witnesses (``storage/audit.py``)."""
    script = """
        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, actor TEXT NOT NULL,
            act TEXT NOT NULL, subject TEXT NOT NULL, detail TEXT NOT NULL,
            entry_hash BLOB NOT NULL, chain_hash BLOB NOT NULL
        );
        CREATE INDEX audit_log_act ON audit_log(act, seq);
        CREATE INDEX audit_log_subject ON audit_log(subject, seq);
        CREATE TABLE audit_checkpoints (
            size INTEGER PRIMARY KEY, head BLOB NOT NULL, at_ms INTEGER NOT NULL,
            key_id TEXT NOT NULL, signature BLOB NOT NULL,
            witness TEXT NOT NULL DEFAULT '', witness_status TEXT NOT NULL DEFAULT '',
            witness_note TEXT NOT NULL DEFAULT '', witnessed_at_ms INTEGER
        );
        CREATE TABLE audit_witness (
            child TEXT NOT NULL, size INTEGER NOT NULL, head BLOB NOT NULL,
            at_ms INTEGER NOT NULL, key_id TEXT NOT NULL, signature BLOB NOT NULL,
            received_at_ms INTEGER NOT NULL, PRIMARY KEY (child, size)
        )
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _blind_index(conn: sqlite3.Connection) -> None:
    """The identity index (``storage/blind_index.py``): the network's index keys as this node
    holds them (sealed to its own at-rest key), the identity numbers of its own records'
    subjects (sealed likewise; only the holder has them), and which catalogue entries carry
    which blind-index value, so a search by identity number is an index lookup. Filled from
    the entries already held."""
    script = """
        CREATE TABLE index_keys (
            version INTEGER PRIMARY KEY, created_ms INTEGER NOT NULL, sealed BLOB NOT NULL
        );
        CREATE TABLE subject_ids (record_id TEXT PRIMARY KEY, sealed BLOB NOT NULL);
        CREATE TABLE subject_index (
            value TEXT NOT NULL, entry_id INTEGER NOT NULL, PRIMARY KEY (value, entry_id)
        ) WITHOUT ROWID;
        CREATE INDEX subject_index_entry ON subject_index(entry_id);
        INSERT OR IGNORE INTO subject_index(value, entry_id)
            SELECT j.value, c.id FROM catalogue c, json_each(c.subject_index) j
            WHERE c.deleted = 0 AND c.subject_index != '[]'
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _requests(conn: sqlite3.Connection) -> None:
    """Utilisation requests, filed here (``outgoing``) or held here (``incoming``), and the
    durable outbox of their calls (``storage/requests.py``). No column holds an identity
    number: the requesting node keeps the personal part sealed to the holder, the holder
    keeps it masked."""
    script = """
        CREATE TABLE requests (
            request_id TEXT PRIMARY KEY, role TEXT NOT NULL, holder TEXT NOT NULL,
            record_id TEXT NOT NULL, requesting_node TEXT NOT NULL, clerk TEXT NOT NULL,
            purpose TEXT NOT NULL, relationship TEXT NOT NULL, created_ms INTEGER NOT NULL,
            state TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '',
            state_at_ms INTEGER NOT NULL, holder_due_ms INTEGER NOT NULL,
            receiver_due_ms INTEGER, citizen_name TEXT NOT NULL DEFAULT '',
            id_masked TEXT NOT NULL DEFAULT '', rule TEXT NOT NULL DEFAULT '',
            attorney_sha256 TEXT NOT NULL DEFAULT '', attorney_type TEXT NOT NULL DEFAULT '',
            sealed BLOB, record_title TEXT NOT NULL DEFAULT '',
            archival_code TEXT NOT NULL DEFAULT '', content_sha256 TEXT NOT NULL DEFAULT '',
            content_name TEXT NOT NULL DEFAULT '', content_type TEXT NOT NULL DEFAULT '',
            content_size INTEGER NOT NULL DEFAULT 0, change TEXT NOT NULL DEFAULT '',
            copy_code TEXT NOT NULL DEFAULT '', copy_document BLOB
        );
        CREATE INDEX requests_by_state ON requests(role, state, holder_due_ms);
        CREATE TABLE request_outbox (
            id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, destination TEXT NOT NULL,
            method TEXT NOT NULL, payload BLOB NOT NULL, created_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_ms INTEGER NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX request_outbox_due ON request_outbox(next_attempt_ms)
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _copies(conn: sqlite3.Connection) -> None:
    """The certified copies this node issued as a holder, by verification code, so its
    verify page can show a copy from the code printed on it (``storage/copies.py``)."""
    conn.execute(
        "CREATE TABLE copies (code TEXT PRIMARY KEY, request_id TEXT NOT NULL, "
        "record_id TEXT NOT NULL, issued_at_ms INTEGER NOT NULL, credential BLOB NOT NULL)"
    )
    conn.execute("CREATE INDEX copies_request ON copies(request_id)")


def _appraisal(conn: sqlite3.Connection) -> None:
    """OAI-PMH and appraisal (``storage/oai.py``, ``storage/appraisal.py``).

    Each catalogue row gets ``stamp``, the UTC second this node last accepted a version of it
    (an OAI datestamp, bumped by every change, access changes included), and ``shown``, set
    once the entry was ever open here and never cleared: an entry that was harvestable stays
    in the feed as deleted when it is closed, re-classified or disposed of. Rows already held
    take the time of their last change, or now. The review lists hold the records the
    appraisal jobs found due, and each decision taken on them; a disposed record (and its
    tombstone in the catalogues above) keeps the disposal decision in ``disposal``."""
    now = int(time.time())
    script = f"""
        ALTER TABLE catalogue ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE catalogue ADD COLUMN shown INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE catalogue ADD COLUMN disposal TEXT NOT NULL DEFAULT '';
        ALTER TABLE records ADD COLUMN disposal TEXT NOT NULL DEFAULT '';
        UPDATE catalogue SET shown = (access = 'open' AND deleted = 0), stamp = coalesce(
            (SELECT CAST(max(ch.at) AS INTEGER) FROM changes ch
             WHERE ch.holder = catalogue.holder AND ch.record_id = catalogue.record_id), {now});
        CREATE INDEX catalogue_oai ON catalogue(stamp, id) WHERE shown = 1;
        CREATE TABLE appraisal_reviews (
            record_id TEXT NOT NULL, kind TEXT NOT NULL, due TEXT NOT NULL,
            listed_at REAL NOT NULL, status TEXT NOT NULL DEFAULT 'pending',
            decided_at REAL, decided_by TEXT NOT NULL DEFAULT '',
            reason TEXT NOT NULL DEFAULT '', PRIMARY KEY (record_id, kind)
        );
        CREATE INDEX appraisal_pending ON appraisal_reviews(kind, status, due)
        """
    for statement in script.split(";"):
        conn.execute(statement)


def _preservation(conn: sqlite3.Connection) -> None:
    """Issue 11: the DA/T 46 elements 文种 and 密级 on records; 档号 looked up for uniqueness;
    each stored content's last fixity check, and the records whose content failed one
    (``storage/preservation.py``)."""
    script = """
        ALTER TABLE records ADD COLUMN doc_type TEXT NOT NULL DEFAULT '';
        ALTER TABLE records ADD COLUMN secrecy TEXT NOT NULL DEFAULT '';
        CREATE INDEX records_archival_code ON records(archival_code);
        CREATE TABLE fixity_checks (
            sha256 TEXT PRIMARY KEY, checked_at_ms INTEGER NOT NULL, ok INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX fixity_checks_due ON fixity_checks(checked_at_ms);
        CREATE TABLE fixity_failures (
            record_id TEXT NOT NULL, sha256 TEXT NOT NULL, name TEXT NOT NULL,
            detected_at_ms INTEGER NOT NULL, PRIMARY KEY (record_id, sha256)
        ) WITHOUT ROWID
        """
    for statement in script.split(";"):
        conn.execute(statement)


MIGRATIONS: list[Step] = [
    ("0001_initial_schema", _initial_schema),
    ("0002_trust", _trust_tables),
    ("0003_sync_outbox", _sync_outbox),
    ("0005_search_compact_index", _search_compact_index),
    ("0006_ae_catalogue_versions", _catalogue_versions),
    ("0007_accounts", _accounts),
    ("0008_audit_log", _audit_log),
    ("0009_replay_and_pins", _replay_and_pins),
    ("0010_record_files", _record_files),
    ("0011_blind_index", _blind_index),
    ("0012_requests", _requests),
    ("0013_copies", _copies),
    ("0014_appraisal", _appraisal),
    ("0016_preservation", _preservation),
]


def applied(conn: sqlite3.Connection) -> list[str]:
    """Names of the steps already applied, in order."""
    return [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY rowid")]


def migrate(conn: sqlite3.Connection, steps: list[Step] | None = None) -> list[str]:
    """Apply the steps not yet applied, each in its own transaction; return their names.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Afterwards the full-text
    index is rebuilt if it was built by another tokenizer version.
    """
    conn.execute(
        "CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
    )
    done = set(applied(conn))
    new: list[str] = []
    for name, step in MIGRATIONS if steps is None else steps:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(conn)
            conn.execute(
                "INSERT INTO _migrations(name, applied_at) VALUES (?, ?)", (name, time.time())
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        new.append(name)
    conn.execute("BEGIN IMMEDIATE")
    try:
        fts.ensure_current(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return new
