"""Inspection records, the patrol schedule, follow-ups and a site's timeline. Pure domain code (no Flask).

An inspection record (date, inspectors, condition, threats with severity, findings, actions, an optional follow-up,
inspection point, GPX patrol track and photos) is written in one store transaction with its audit entry; its photo
files are placed by that transaction (``blobs.BlobStore.batch``). Records are evidence: never changed afterwards
(append-only in the store). Modules: settings.py, records.py (records, follow-ups, photo files), schedule.py,
timeline.py; other code imports the names below.
"""
from __future__ import annotations

from .records import (CONDITIONS, MAX_INSPECTORS, MAX_NOTE, MAX_TEXT, SEVERITIES, THREATS, PhotoFile, RecordInput,
                      close_followup, distance_m, distance_to_site_m, followup_json, get_inspection, insert_photo_row,
                      inspection_json, list_for_site, open_followups, parse_date, parse_point, parse_record, photo_file,
                      photo_json, record_from_form, record_inspection, site_existed_since)
from .schedule import Due, schedule
from .settings import Settings, local_date, local_today
from .timeline import CONDITION_RANK, timeline

__all__ = ["CONDITIONS", "CONDITION_RANK", "Due", "MAX_INSPECTORS", "MAX_NOTE", "MAX_TEXT", "PhotoFile", "RecordInput",
           "SEVERITIES", "Settings", "THREATS", "close_followup", "distance_m", "distance_to_site_m", "followup_json",
           "get_inspection", "insert_photo_row", "inspection_json", "list_for_site", "local_date", "local_today",
           "open_followups", "parse_date", "parse_point", "parse_record", "photo_file", "photo_json",
           "record_from_form", "record_inspection", "schedule", "site_existed_since", "timeline"]
