"""An import's life: upload (the file read and refused here if it cannot be read as a whole), a new mapping or new
options, confirmation; and the background job that analyses the rows and, once confirmed, proposes them.

The job runs in a thread of the web process with its own connection; its state is in the ``imports`` table, so a
page reloaded (or another server thread) sees its progress, and a job whose worker stopped reporting (the server was
restarted) is taken over by the next request that looks at the import (``ensure_running``) and goes on where it
stopped. Who works on an import is decided in the database (``store.imports.claim``): starting a second thread for
it is harmless, it finds the import taken and ends.

Atomicity, per row: each proposal is ONE transaction with its row's result and the import's progress (the revision
workflow's own transaction nested in it), so no row is ever half-proposed, a row refused by the workflow does not
hold up the others, and the registry's write lock is held for milliseconds at a time, not for the minutes a file of
5,000 rows takes (reviewers and field check-ins go on meanwhile). Problems of the file as a whole refuse it at upload,
before any row is proposed.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping

from .. import json_input, revisions, store
from ..coords import CoordinateError
from ..errors import Conflict, InvalidInput, NotFound, RegistryError
from ..geometry import GeometryError
from ..messages import msg
from ..vocab import ImportState
from ..store import imports as istore
from .analysis import Superseded, analyse, reason_of
from .fields import check_mapping, guess_mapping
from .reading import Options, read
from .settings import Settings

log = logging.getLogger(__name__)
OPEN_STATES = ("analysing", "proposing")


# ------------------------------------------------------------------------------------------------------ the requests
def create(conn, filename: str, data: bytes, fields: Mapping[str, Any], *, actor: str, settings: Settings,
           remote_addr: str | None = None) -> dict[str, Any]:
    """Read an uploaded file (refused as a whole here: unreadable, empty, unknown encoding or CRS), store it with its
    guessed (or given) mapping, and start its analysis. Returns the import."""
    options = Options.parse(fields, settings)
    given = _mapping_field(fields.get("mapping"))
    found = read(filename, data, options, settings, mapping=given)
    table = found.table
    mapping = _mapping_for(found, given, options)
    with store.transaction(conn):
        now = store.utc_now()
        fid = istore.insert_import(conn, created_by=actor, created_at=now, filename=table.filename,
                                   sha256=hashlib.sha256(data).hexdigest(), data=data, format=table.format,
                                   options=options.to_json(), mapping=mapping, info=found.info(),
                                   total=len(found.rows))
        store.append_audit(conn, actor=actor, action="import.upload", target=f"import:{fid}", at=now,
                           remote_addr=remote_addr, detail={"import": fid, "file": table.filename,
                                                            "sha256": hashlib.sha256(data).hexdigest(),
                                                            "rows": len(found.rows)})
    start(fid, settings)
    return get(conn, fid)


def _mapping_for(found, given: dict | None, options: Options) -> dict[str, str]:
    """The mapping given (checked against the columns read), or the one guessed from them."""
    table = found.table
    if given is not None:
        mapping = check_mapping(given, table.columns, has_geometry=not table.needs_coordinates)
    else:
        mapping = guess_mapping(table.columns, coordinates=found.coordinate_columns,
                                has_geometry=not table.needs_coordinates)
    if options.match == "code" and "code" not in mapping.values():
        raise InvalidInput(msg("imports.code_column_needed", "matching by code needs the column that holds the site "
                               "codes: map it to 'code', or match by location"))
    return mapping


def _mapping_field(raw: Any) -> dict | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json_input.loads(raw, "mapping")
        except ValueError:
            raise InvalidInput(msg("imports.mapping_not_json", "mapping must be a JSON object of file columns and "
                                   "registry fields")) from None
    if not isinstance(raw, dict):
        raise InvalidInput(msg("imports.mapping_not_dict", "mapping must be an object of file columns and registry "
                               "fields"))
    return raw


def get(conn, fid: int) -> dict[str, Any]:
    found = istore.get_import(conn, fid)
    if found is None:
        raise NotFound(msg("imports.no_import", "no import {fid}", fid=fid))
    return found


def options_of(imp: Mapping[str, Any]) -> Options:
    return Options(**{k: imp["options"].get(k) for k in Options().to_json()})


def remap(conn, fid: int, fields: Mapping[str, Any], *, actor: str, settings: Settings,
          remote_addr: str | None = None) -> dict[str, Any]:
    """New options (encoding, CRS, layer, matching) and/or a new mapping: the file is read again (refused as a whole
    if it cannot be) and analysed anew; an analysis still running for the old ones stops without writing."""
    imp = get(conn, fid)
    if imp["confirmed_by"]:
        raise Conflict(msg("imports.already_confirmed", "import {fid} was confirmed: its proposals are made; upload "
                           "the file again for another run", fid=fid))
    old = options_of(imp)
    options = Options.parse(fields, settings, base=old)
    given = _mapping_field(fields.get("mapping"))
    reread = (options.encoding, options.layer) != (old.encoding, old.layer)
    if given is None and not reread:
        given = imp["mapping"]
    data = istore.get_file(conn, fid)
    if data is None:
        raise Conflict(msg("imports.file_gone", "import {fid} no longer has its file; upload it again", fid=fid))
    found = read(imp["filename"], data, options, settings, mapping=given)
    mapping = _mapping_for(found, given, options)
    with store.transaction(conn):
        if istore.get_import(conn, fid)["confirmed_by"]:
            raise Conflict(msg("imports.confirmed_meanwhile", "import {fid} was confirmed meanwhile", fid=fid))
        now = store.utc_now()
        generation = istore.start_analysis(conn, fid, options={**imp["options"], **options.to_json()},
                                           mapping=mapping, info=found.info(), total=len(found.rows), at=now)
        store.append_audit(conn, actor=actor, action="import.mapping", target=f"import:{fid}", at=now,
                           remote_addr=remote_addr, detail={"import": fid, "generation": generation,
                                                            "options": options.to_json(), "mapping": mapping})
    start(fid, settings)
    return get(conn, fid)


def confirm(conn, fid: int, fields: Mapping[str, Any], *, actor: str, settings: Settings,
            remote_addr: str | None = None) -> dict[str, Any]:
    """Propose the planned rows of the analysis the admin saw (``generation``): with ``reason`` (required) and
    optional defaults for method, accuracy_m and survey_date of rows that do not give their own."""
    generation = revisions.whole_number(fields.get("generation"), "generation")
    if generation is None:
        raise InvalidInput(msg("imports.generation_needed", "say which analysis you confirm (\"generation\", as "
                               "shown with the preview): the proposals are exactly what that preview showed"))
    reason = fields.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(msg("imports.reason_needed", "the import needs a reason: why should these sites be "
                               "proposed (e.g. '2025 survey campaign of Guanling county, RTK')"))
    if len(reason) > revisions.MAX_REASON - 300:
        raise InvalidInput(msg("imports.reason_too_long", "the reason is too long (at most {limit} characters)",
                               limit=revisions.MAX_REASON - 300))
    defaults = {k: fields[k] for k in ("method", "accuracy_m", "survey_date") if fields.get(k) not in (None, "")}
    revisions.parse_draft({**defaults, "reason": reason})  # method, accuracy and date checked now, once
    with store.transaction(conn):
        imp = get(conn, fid)
        if imp["state"] != ImportState.READY:
            raise Conflict(_not_ready(fid, imp), state=imp["state"])
        if imp["generation"] != generation:
            raise Conflict(msg("imports.analysed_again", "import {fid} was analysed again since you looked at it (you "
                               "saw analysis {generation}, it is now at {now}): look at the new preview", fid=fid,
                               generation=generation, now=imp["generation"]), generation_now=imp["generation"])
        now = store.utc_now()
        total = len(istore.rows_to_propose(conn, fid))
        istore.settle_unplanned(conn, fid)
        istore.update_import(conn, fid, state="proposing", reason=reason.strip(), confirmed_by=actor,
                             confirmed_at=now, updated_at=now, progress_done=0, progress_total=total, worker=None,
                             heartbeat_at=None, options={**imp["options"], "defaults": defaults,
                                                         "confirmed_from": remote_addr})
        store.append_audit(conn, actor=actor, action="import.confirm", target=f"import:{fid}", at=now,
                           remote_addr=remote_addr, detail={"import": fid, "generation": generation,
                                                            "to_propose": total})
    start(fid, settings)
    return get(conn, fid)


def _not_ready(fid: int, imp: Mapping[str, Any]):
    """Why an import that is not ready cannot be confirmed."""
    if imp["state"] == ImportState.ANALYSING:
        return msg("imports.still_analysing", "import {fid} is still being analysed: wait for the preview", fid=fid)
    if imp["state"] == ImportState.FAILED:
        if imp["error"]:
            return msg("imports.failed", "import {fid} failed: {error}", fid=fid, error=imp["error"])
        return msg("imports.failed_see_page", "import {fid} failed: see its page", fid=fid)
    return msg("imports.already_confirmed_state", "import {fid} was already confirmed", fid=fid)


# ------------------------------------------------------------------------------------------------------------ jobs
def start(fid: int, settings: Settings) -> threading.Thread | None:
    """Run the import's job in a background thread (no-op without a registry file: scripts call run() instead)."""
    if not settings.registry_path:
        return None
    thread = threading.Thread(target=run, args=(settings.registry_path, fid, settings), name=f"import-{fid}",
                              daemon=True)
    thread.start()
    return thread


def ensure_running(conn, imp: Mapping[str, Any], settings: Settings) -> None:
    """Take over a job whose worker stopped reporting (or never started): a page that looks at it keeps it going."""
    if imp["state"] in OPEN_STATES and (imp["heartbeat_at"] is None or imp["heartbeat_at"] < _ago(
            settings.stale_after_s)):
        start(imp["fid"], settings)


def _ago(seconds: float) -> str:
    at = datetime.now(timezone.utc) - timedelta(seconds=seconds)
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def run(registry_path: str, fid: int, settings: Settings) -> None:
    """The job of one import, while there is work it can claim (a newer analysis is claimed after an older one)."""
    conn = store.connect(registry_path)
    worker = uuid.uuid4().hex
    try:
        while True:
            with store.transaction(conn):
                imp = istore.claim(conn, fid, worker=worker, at=store.utc_now(),
                                   stale_before=_ago(settings.stale_after_s))
            if imp is None:
                return
            try:
                if imp["state"] == ImportState.ANALYSING:
                    _analyse(conn, imp, worker, settings)
                else:
                    _propose_all(conn, imp, worker, settings)
            except Superseded:
                continue
            except Exception as exc:  # anything unexpected ends the job visibly, never silently
                log.exception("import %s failed", fid)
                with store.transaction(conn):
                    istore.update_import(conn, fid, worker=worker, state="failed", updated_at=store.utc_now(),
                                         error=f"the job stopped: {reason_of(exc)[:300]}")
                return
    finally:
        conn.close()


def _analyse(conn, imp: dict[str, Any], worker: str, settings: Settings) -> None:
    fid, generation = imp["fid"], imp["generation"]
    data = istore.get_file(conn, fid)
    found = read(imp["filename"], data, options_of(imp), settings, mapping=imp["mapping"])

    def progress(done: int) -> bool:
        with store.transaction(conn):
            return istore.update_import(conn, fid, generation=generation, worker=worker, progress_done=done,
                                        heartbeat_at=store.utc_now())

    rows = analyse(conn, found, imp["mapping"], options_of(imp), settings, progress=progress)
    with store.transaction(conn):
        now = store.utc_now()
        if not istore.update_import(conn, fid, generation=generation, worker=worker, state="ready",
                                    progress_done=len(rows), heartbeat_at=now, updated_at=now):
            raise Superseded()
        istore.replace_rows(conn, fid, rows)
        istore.update_import(conn, fid, counts=istore.count_rows(conn, fid))


def _propose_all(conn, imp: dict[str, Any], worker: str, settings: Settings) -> None:
    fid = imp["fid"]
    pending = istore.rows_to_propose(conn, fid)
    done = imp["progress_total"] - len(pending)
    for row in pending:
        _propose_row(conn, imp, row, worker, settings, done)
        done += 1
    with store.transaction(conn):
        now = store.utc_now()
        counts = istore.count_rows(conn, fid)
        if not istore.update_import(conn, fid, worker=worker, state="done", finished_at=now, updated_at=now,
                                    heartbeat_at=now, counts=counts, progress_done=done):
            raise Superseded()
        istore.drop_file(conn, fid)
        store.append_audit(conn, actor=imp["confirmed_by"], action="import.finish", target=f"import:{fid}", at=now,
                           remote_addr=imp["options"].get("confirmed_from"),
                           detail={"import": fid, "proposed": counts["result_proposed"],
                                   "already": counts["result_already"], "refused": counts["result_refused"],
                                   "unchanged": counts["unchanged"]})


def _draft(imp: dict[str, Any], row: dict[str, Any], settings: Settings) -> revisions.Draft:
    fields = dict(row["fields"])
    for key, value in (imp["options"].get("defaults") or {}).items():
        fields.setdefault(key, value)
    code = f", file code {row['source_code']}" if row["source_code"] else ""
    fields["reason"] = f"{imp['reason']} (import #{imp['fid']}: {imp['filename']}, row {row['row_no']}{code})"
    draft = revisions.parse_draft(fields, policy=settings.policy)
    crs = (imp["info"].get("crs") or {}).get("key") or "EPSG:4490"
    draft.input = {target: {"format": f"import #{imp['fid']}", "filename": imp["filename"],
                            "feature": f"row {row['row_no']}", "source_crs": crs}
                   for target in ("location", "boundary") if target in fields}
    return draft


def _propose_row(conn, imp: dict[str, Any], row: dict[str, Any], worker: str, settings: Settings,
                 done: int) -> None:
    """One row: its proposal (or the open proposal that already has its content), its result and the import's
    progress, in ONE transaction; a refusal by the workflow is recorded in another."""
    fid = imp["fid"]
    try:
        draft = _draft(imp, row, settings)
        with store.transaction(conn):
            if not istore.update_import(conn, fid, worker=worker, progress_done=done + 1,
                                        heartbeat_at=store.utc_now()):
                raise Superseded()
            earlier = istore.open_proposal_for_key(conn, row["content_key"])
            if earlier is not None:
                istore.set_row_result(conn, fid, row["row_no"], result="already", revision_id=earlier["revision"])
                return
            rev = revisions.propose(conn, draft, author=imp["confirmed_by"], site_code=row["site_code"],
                                    policy=settings.policy, remote_addr=imp["options"].get("confirmed_from"))
            istore.set_row_result(conn, fid, row["row_no"], result="proposed", revision_id=rev.id)
    except (RegistryError, GeometryError, CoordinateError) as exc:
        with store.transaction(conn):
            if not istore.update_import(conn, fid, worker=worker, progress_done=done + 1,
                                        heartbeat_at=store.utc_now()):
                raise Superseded() from None
            istore.set_row_result(conn, fid, row["row_no"], result="refused", reason=reason_of(exc))
