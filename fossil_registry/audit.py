"""The audit trail as admins read it (web page, CSV download, API): filtered entries, dates read in the registry's
time zone. Writing audit records is part of every change's own transaction (store.append_audit)."""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from . import local_time, store
from .messages import Label
from .vocab import RescueEvent, VersionOperation
from .sites import parse_timestamp

FILTERS = ("actor", "action", "target", "since", "until")
COLUMNS = ("at", "actor", "action", "target", "remote_addr", "detail")


def entries(conn, filters: Mapping[str, str | None], *, tz: str, limit: int | None = 500) -> list[dict[str, Any]]:
    """Newest first. ``since``/``until``: dates or times (a bare ``since`` date means its start, a bare ``until`` its
    end, both in ``tz``); ``action`` may end with * (a prefix)."""
    since, until = filters.get("since"), filters.get("until")
    if since and len(since) == 10:
        since += "T00:00:00"
    return store.list_audit(conn, actor=filters.get("actor"), action=filters.get("action"),
                            target=filters.get("target"), since=parse_timestamp(since, tz) if since else None,
                            until=parse_timestamp(until, tz) if until else None, limit=limit)


def rows(found: Iterable[dict[str, Any]], tz: str) -> Iterable[list[Any]]:
    """Entries as table rows in COLUMNS order (the detail as JSON text; the time ISO 8601 in ``tz``, with its offset:
    what a person reads in a spreadsheet, still exact for a program)."""
    for e in found:
        yield [json.dumps(e[c], ensure_ascii=False) if c == "detail" and e[c]
               else local_time.local_moment(e[c], tz).isoformat(timespec="milliseconds") if c == "at"
               else (e[c] if c != "detail" else "") for c in COLUMNS]


# ---- what an action is, as an admin reads it (issue 25): "site.update" is 产地 · 修改 on a Chinese page -----------------
_AREAS = {"account": "账户", "token": "令牌", "site": "产地", "section": "剖面", "revision": "修订建议",
          "inspection": "巡查", "marker": "保护标志", "report": "公众报告", "rescue": "抢救案件", "fieldkit": "外业数据包",
          "impact": "影响评估", "import": "导入"}
_VERBS = {"create": "创建", "enable": "启用或停用", "login": "登录", "login_failed": "登录失败", "logout": "退出",
          "role": "更改角色", "checkin": "交回", "checkout": "领取", "case.open": "立案", "case.rescreen": "重新评估",
          "case.update": "更新案件", "screen": "评估", "confirm": "确认", "finish": "完成", "mapping": "字段对应",
          "upload": "上传", "followup_close": "关闭后续事项", "record": "记录", "add": "添加", "accept": "受理",
          "dismiss": "不予受理", "submit": "提交", "open": "立案", "comment": "发表意见", "rebase": "变基",
          "withdraw": "撤回", "amend": "修改", "resubmit": "重新提交", "approve": "批准", "reject": "驳回",
          "request_changes": "退回修改", "issue": "签发", "revoke": "吊销"}


def action_label(action: str) -> Label | str:
    """An audit action ("site.update", "rescue.specimens_rescued") in both languages: its code in English (what the
    filters and the CSV use), area and verb in Chinese; the code itself when a word of it is not known."""
    area, _, verb = (action or "").partition(".")
    verbs = {**_VERBS, **{m.value: m.label.zh for m in (*VersionOperation, *RescueEvent)}}
    if area not in _AREAS or verb not in verbs:
        return action
    return Label(f"audit.{action}", action, f"{_AREAS[area]} · {verbs[verb]}")
