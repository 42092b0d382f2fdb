"""The registry's vocabularies, each written once: its values (what is stored and what the API exchanges), their order,
their Chinese and English labels, their colours where they are drawn, and the words an import may use for them.

Every other spelling is derived from here: the CHECK constraints of both databases (:meth:`Vocabulary.check_sql`),
the JSON-schema enums of the API (:meth:`Vocabulary.schema`), form choices, map legends, charts, the field kit's
bilingual labels (:meth:`Vocabulary.bilingual`) and the import's synonyms (:meth:`Vocabulary.parse`). Code compares
against the members (``site.sensitivity == Sensitivity.GENERALIZED``); a member *is* its stored string, so rows,
JSON and SQL parameters need no conversion.

A label is a :class:`fossil_registry.messages.Label`: a Message that carries its own Chinese, shown in the reader's
language wherever a Message is (templates, API answers, messages that name it), with no catalog entry to forget.
"""
from __future__ import annotations

import unicodedata
from enum import Enum
from typing import Any, Iterable

from .messages import Label

__all__ = ["Vocabulary", "Level", "Sensitivity", "SiteStatus", "Period", "FossilGroup", "Condition", "Threat",
           "Severity", "SurveyMethod", "Significance", "BoundaryRank", "GsspState", "MarkerKind", "MarkerCondition",
           "ReportKind", "ReportStatus", "RescueSource", "RescueEvent", "VOCABULARIES"]


def _key(text: Any) -> str:
    """How an import compares a word: NFKC, lower case, no spaces, hyphens or underscores."""
    text = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    return "".join(ch for ch in text if ch not in " _-/()（）")


class Vocabulary(str, Enum):
    """A vocabulary: members declared as ``NAME = value, english, chinese[, colour][, synonyms]``."""

    def __new__(cls, value: str, en: str, zh: str, colour: str | None = None, synonyms: Iterable[str] = ()):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = Label(f"vocab.{cls.__name__}.{value}", en, zh)
        member.colour = colour
        member.synonyms = tuple(synonyms)
        return member

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    # ---- the vocabulary as a whole -----------------------------------------------------------------------------
    @classmethod
    def values(cls) -> tuple[str, ...]:
        """The stored values, in the vocabulary's order."""
        return tuple(m.value for m in cls)

    @classmethod
    def labels(cls) -> dict[str, Label]:
        return {m.value: m.label for m in cls}

    @classmethod
    def colours(cls) -> dict[str, str]:
        return {m.value: m.colour for m in cls if m.colour}

    @classmethod
    def choices(cls) -> list[tuple[str, Label]]:
        """(value, label) pairs for a form's select, in order."""
        return [(m.value, m.label) for m in cls]

    @classmethod
    def legend(cls) -> list[dict[str, Any]]:
        """A map legend or chart series: value, label and colour, in order (labels still Messages: localize them)."""
        return [{"value": m.value, "label": m.label, "colour": m.colour} for m in cls]

    @classmethod
    def check_sql(cls, column: str) -> str:
        """The CHECK constraint's condition, the same text for SQLite and PostgreSQL."""
        return f"{column} IN ({', '.join(repr(v) for v in cls.values())})"

    @classmethod
    def schema(cls, **extra: Any) -> dict[str, Any]:
        """A JSON-schema enum of the values (for the OpenAPI document and the OGC queryables)."""
        return {"enum": list(cls.values()), "title": cls.__name__, **extra}

    @classmethod
    def get(cls, value: Any, default: Any = None) -> Any:
        """The member stored as ``value``, or ``default``."""
        try:
            return cls(value)
        except ValueError:
            return default

    @classmethod
    def parse(cls, text: Any) -> Vocabulary | None:
        """The member an imported cell means: its value, either label, or one of its synonyms (Chinese or English,
        case, width and spacing ignored); None when it means none."""
        key = _key(text)
        if not key:
            return None
        for m in cls:
            words = (m.value, str(m.label), m.label.zh, *m.synonyms)
            if key in {_key(w) for w in words}:
                return m
        return None

    @classmethod
    def labelled(cls, value: Any) -> Any:
        """A stored value as a person reads it: its label (each item's of a list), the value itself when unknown."""
        if isinstance(value, (list, tuple)):
            return [cls.labelled(v) for v in value]
        member = cls.get(value) if value is not None else None
        return member.label if member is not None else value

    # ---- one value --------------------------------------------------------------------------------------------
    @property
    def bilingual(self) -> str:
        """Chinese then English, for files read outside the app (field kits, KML): ``国家级 national``."""
        return self.label.bilingual


class Level(Vocabulary):
    """Protection level of a fossil site (the province's key-site lists)."""

    NATIONAL = "national", "national key site", "国家级重点保护产地", "#b2182b", ("国家级", "国家", "国家重点")
    PROVINCIAL = "provincial", "provincial key site", "省级重点保护产地", "#e08214", ("省级", "省", "省重点")
    GENERAL = "general", "general site", "一般保护产地", "#2166ac", ("一般", "一般保护")


class Sensitivity(Vocabulary):
    """What the public may see of a feature's location."""

    OPEN = "open", "location public", "位置公开", "#4c9f70", ("公开",)
    GENERALIZED = ("generalized", "location generalized for the public", "对公众模糊化位置", "#e1b12c",
                   ("generalised", "模糊", "概略", "模糊化", "概略公开"))
    HIDDEN = "hidden", "location hidden from the public", "对公众隐藏位置", "#6d6875", ("隐藏", "不公开", "保密")


class SiteStatus(Vocabulary):
    ACTIVE = "active", "active", "有效"
    RETIRED = "retired", "retired", "已撤销"


class Period(Vocabulary):
    """Geological periods (the international chronostratigraphic chart)."""

    EDIACARAN = "Ediacaran", "Ediacaran", "埃迪卡拉纪", None, ("埃迪卡拉", "震旦", "震旦纪")
    CAMBRIAN = "Cambrian", "Cambrian", "寒武纪", None, ("寒武",)
    ORDOVICIAN = "Ordovician", "Ordovician", "奥陶纪", None, ("奥陶",)
    SILURIAN = "Silurian", "Silurian", "志留纪", None, ("志留",)
    DEVONIAN = "Devonian", "Devonian", "泥盆纪", None, ("泥盆",)
    CARBONIFEROUS = "Carboniferous", "Carboniferous", "石炭纪", None, ("石炭",)
    PERMIAN = "Permian", "Permian", "二叠纪", None, ("二叠",)
    TRIASSIC = "Triassic", "Triassic", "三叠纪", None, ("三叠",)
    JURASSIC = "Jurassic", "Jurassic", "侏罗纪", None, ("侏罗",)
    CRETACEOUS = "Cretaceous", "Cretaceous", "白垩纪", None, ("白垩",)
    PALEOGENE = "Paleogene", "Paleogene", "古近纪", None, ("古近", "早第三纪", "早第三")
    NEOGENE = "Neogene", "Neogene", "新近纪", None, ("新近", "晚第三纪", "晚第三")
    QUATERNARY = "Quaternary", "Quaternary", "第四纪", None, ("第四",)


class FossilGroup(Vocabulary):
    MARINE_REPTILES = "marine_reptiles", "marine reptiles", "海生爬行类", None, ("海生爬行",)
    ICHTHYOSAURS = "ichthyosaurs", "ichthyosaurs", "鱼龙类", None, ("鱼龙",)
    FISHES = "fishes", "fishes", "鱼类"
    CRINOIDS = "crinoids", "crinoids", "海百合"
    AMMONOIDS = "ammonoids", "ammonoids", "菊石"
    TRILOBITES = "trilobites", "trilobites", "三叶虫"
    BRACHIOPODS = "brachiopods", "brachiopods", "腕足类", None, ("腕足",)
    BIVALVES = "bivalves", "bivalves", "双壳类", None, ("双壳",)
    GASTROPODS = "gastropods", "gastropods", "腹足类", None, ("腹足",)
    CORALS = "corals", "corals", "珊瑚"
    SPONGES = "sponges", "sponges", "海绵"
    ECHINODERMS = "echinoderms", "echinoderms", "棘皮动物", None, ("棘皮",)
    ALGAE = "algae", "algae", "藻类", None, ("藻",)
    EMBRYOS = "embryos", "embryos", "胚胎化石", None, ("胚胎",)
    ACRITARCHS = "acritarchs", "acritarchs", "疑源类", None, ("疑源",)
    PLANTS = "plants", "plants", "植物"
    TRACE_FOSSILS = "trace_fossils", "trace fossils", "遗迹化石"
    DINOSAURS = "dinosaurs", "dinosaurs", "恐龙"
    MAMMALS = "mammals", "mammals", "哺乳动物", None, ("哺乳",)
    SOFT_BODIED = "soft_bodied", "soft-bodied fossils", "软躯体化石", None, ("软躯体",)
    CONODONTS = "conodonts", "conodonts", "牙形石", None, ("牙形",)
    FORAMINIFERA = "foraminifera", "foraminifera", "有孔虫"


class Condition(Vocabulary):
    """A site's condition found at an inspection, best first."""

    GOOD = "good", "good", "良好", "#1a9850"
    FAIR = "fair", "fair", "一般", "#91cf60"
    POOR = "poor", "poor", "较差", "#fee08b"
    DAMAGED = "damaged", "damaged", "受损", "#fc8d59"
    DESTROYED = "destroyed", "destroyed", "已毁", "#d73027"


class Threat(Vocabulary):
    QUARRYING = "quarrying", "quarrying", "采石"
    CONSTRUCTION = "construction", "construction", "工程建设"
    ILLEGAL_EXCAVATION = "illegal_excavation", "illegal excavation", "非法挖掘"
    EROSION_LANDSLIDE = "erosion_landslide", "erosion / landslide", "侵蚀/滑坡"
    VEGETATION = "vegetation", "vegetation", "植被覆盖"
    VANDALISM = "vandalism", "vandalism", "人为破坏"
    OTHER = "other", "other", "其他"


class Severity(Vocabulary):
    LOW = "low", "low", "低", "#f4d03f"
    MEDIUM = "medium", "medium", "中", "#e67e22"
    HIGH = "high", "high", "高", "#c0392b"


class SurveyMethod(Vocabulary):
    """How a proposed geometry was measured."""

    RTK = "rtk", "RTK GNSS", "RTK 测量", "#1f5fbf", ("rtkgnss",)
    HANDHELD_GNSS = "handheld_gnss", "handheld GNSS", "手持 GPS", "#5b9bd5", ("handheldgps", "gps", "手持gnss")
    PHONE_MAP = "phone_map", "phone map app", "手机地图", "#f0a35e", ("phonemap", "手机")
    DIGITISED = "digitised", "digitised from a map", "图上量取", "#d35400", ("digitized", "数字化", "图上数字化")
    OTHER = "other", "other", "其他", "#95a5a6"


class Significance(Vocabulary):
    """Why a stratigraphic section is registered."""

    GSSP = "gssp", "GSSP (global stratotype section and point)", "全球界线层型剖面和点位（金钉子）"
    GSSP_CANDIDATE = "gssp_candidate", "GSSP candidate", "金钉子候选剖面"
    STRATOTYPE = "stratotype", "stratotype (type section)", "层型剖面"
    REFERENCE = "reference", "reference section", "参考剖面"
    FOSSIL_BEARING = "fossil_bearing", "fossil-bearing section", "含化石剖面"


class BoundaryRank(Vocabulary):
    """The rank of the boundary (or unit) a section defines."""

    ERATHEM = "erathem", "erathem", "界"
    SYSTEM = "system", "system", "系"
    SERIES = "series", "series", "统"
    STAGE = "stage", "stage", "阶"
    SUBSTAGE = "substage", "substage", "亚阶"
    BIOZONE = "biozone", "biozone", "生物带"
    FORMATION = "formation", "formation", "组"
    OTHER = "other", "other", "其他"


class GsspState(Vocabulary):
    RATIFIED = "ratified", "GSSP, ratified", "金钉子（已批准）"
    CANDIDATE = "candidate", "GSSP candidate", "金钉子候选剖面"


class MarkerKind(Vocabulary):
    """Protection markers on the ground."""

    MONUMENT = "monument", "monument", "保护碑"
    BOUNDARY_POST = "boundary_post", "boundary post", "界桩"
    SIGNBOARD = "signboard", "signboard", "标志牌"
    FENCE = "fence", "fence", "围栏"


class MarkerCondition(Vocabulary):
    PRESENT = "present", "present", "完好"
    DAMAGED = "damaged", "damaged", "受损"
    MISSING = "missing", "missing", "缺失"


class ReportKind(Vocabulary):
    """What a member of the public reports."""

    FIND = "find", "a fossil find", "化石发现"
    DAMAGE = "damage", "damage to a site", "产地遭到破坏"


class ReportStatus(Vocabulary):
    """A public report's triage (the reporter reads the long form: :data:`REPORT_STATUS_FOR_REPORTER`)."""

    NEW = "new", "new", "新报告"
    ACCEPTED = "accepted", "accepted", "已受理"
    DISMISSED = "dismissed", "dismissed", "不予处理"


class RescueSource(Vocabulary):
    PUBLIC_REPORT = "public_report", "public report", "公众报告"
    CONSTRUCTION = "construction", "construction project", "建设工程"
    OTHER = "other", "other", "其他"


class RescueEvent(Vocabulary):
    OFFICIALS_ON_SITE = "officials_on_site", "officials on site", "工作人员到达现场"
    OPINION_ISSUED = "opinion_issued", "opinion issued", "提出处理意见"
    SPECIMENS_RESCUED = "specimens_rescued", "specimens rescued", "抢救标本"
    SAMPLES_COLLECTED = "samples_collected", "samples collected", "采集样品"
    NOTE = "note", "note", "备注"
    NEW_SITE_PROPOSED = "new_site_proposed", "proposed as a new site", "建议新建化石点"
    NOT_SIGNIFICANT = "not_significant", "not significant", "无保护价值"


# What the person who sent a report reads of its triage (longer than the staff's word).
REPORT_STATUS_FOR_REPORTER = {
    ReportStatus.NEW: Label("vocab.ReportStatus.reporter.new", "received, waiting for review", "已收到，等待审核"),
    ReportStatus.ACCEPTED: Label("vocab.ReportStatus.reporter.accepted", "accepted: experts follow it up",
                                 "已受理：专家正在跟进"),
    ReportStatus.DISMISSED: Label("vocab.ReportStatus.reporter.dismissed", "reviewed, no action needed",
                                  "已审核，无需处理"),
}

VOCABULARIES: tuple[type[Vocabulary], ...] = (
    Level, Sensitivity, SiteStatus, Period, FossilGroup, Condition, Threat, Severity, SurveyMethod, Significance,
    BoundaryRank, GsspState, MarkerKind, MarkerCondition, ReportKind, ReportStatus, RescueSource, RescueEvent)


# ---- added with the adoption in the pages (issue 23): the workflow states the pages name and colour -------------------
class ScheduleStatus(Vocabulary):
    """Where a site stands in the inspection schedule."""

    OVERDUE = "overdue", "overdue", "逾期", "#c0392b"
    UPCOMING = "upcoming", "upcoming", "即将到期", "#e67e22"
    OK = "ok", "not yet due", "未到期", "#27ae60"


class RevisionStatus(Vocabulary):
    """A proposal's state in the review workflow."""

    SUBMITTED = "submitted", "waiting for review", "待审核"
    CHANGES_REQUESTED = "changes_requested", "changes requested", "退回修改"
    APPROVED = "approved", "approved", "已批准"
    REJECTED = "rejected", "rejected", "已驳回"
    WITHDRAWN = "withdrawn", "withdrawn", "已撤回"


class RevisionKind(Vocabulary):
    """What a proposal does to its feature."""

    CHANGE = "change", "change", "修改"
    NEW_SITE = "new_site", "new site", "新产地"
    RETIRE = "retire", "retire site", "注销产地"
    RESTORE = "restore", "restore version", "恢复旧版本"


class RevisionEvent(Vocabulary):
    """What happened to a proposal, in its history."""

    SUBMITTED = "submitted", "submitted", "提交"
    AMENDED = "amended", "amended", "修改"
    RESUBMITTED = "resubmitted", "resubmitted", "重新提交"
    APPROVED = "approved", "approved", "已批准"
    REJECTED = "rejected", "rejected", "已驳回"
    CHANGES_REQUESTED = "changes_requested", "requested changes", "退回修改"
    WITHDRAWN = "withdrawn", "withdrawn", "已撤回"
    REBASED = "rebased", "rebased", "变基"
    COMMENTED = "commented", "commented", "发表意见"


class ImportOutcome(Vocabulary):
    """What an import does with one row of its file."""

    NEW = "new", "new site", "新产地", "#1a9850"
    CHANGE = "change", "change", "修改", "#d95f02"
    UNCHANGED = "unchanged", "unchanged", "未改变", "#777777"
    ALREADY = "already", "already proposed", "已提交过", "#7570b3"
    REFUSED = "refused", "refused", "拒绝", "#d73027"


class ImportState(Vocabulary):
    """An import job's state."""

    ANALYSING = "analysing", "analysing", "正在分析"
    READY = "ready", "ready to confirm", "待确认"
    PROPOSING = "proposing", "proposing", "正在提交"
    DONE = "done", "done", "已完成"
    FAILED = "failed", "failed", "失败"


# ---- added for the Chinese staff pages (issue 25): the chart's epochs and ages, roles, versions, proposals' warnings --
class TimeUnit(Vocabulary):
    """Epochs and ages of the international chronostratigraphic chart (ICS) that the registry's ages name, with their
    Chinese names as the Chinese chart (全国地层委员会) writes them; the periods are Period. An age is a text such as
    "Late Triassic (Carnian)": ages.age_label reads it with these names."""

    TERRENEUVIAN = "Terreneuvian", "Terreneuvian", "纽芬兰世"
    SERIES_2 = "Series 2", "Series 2", "第二世"
    MIAOLINGIAN = "Miaolingian", "Miaolingian", "苗岭世"
    FURONGIAN = "Furongian", "Furongian", "芙蓉世"
    STAGE_3 = "Stage 3", "Stage 3", "第三期"
    WULIUAN = "Wuliuan", "Wuliuan", "乌溜期"
    DUYUNIAN = "Duyunian", "Duyunian", "都匀期"
    FLOIAN = "Floian", "Floian", "弗洛期"
    DAPINGIAN = "Dapingian", "Dapingian", "大坪期"
    LLANDOVERY = "Llandovery", "Llandovery", "兰多维列世"
    AERONIAN = "Aeronian", "Aeronian", "埃隆期"
    TELYCHIAN = "Telychian", "Telychian", "特列奇期"
    FAMENNIAN = "Famennian", "Famennian", "法门期"
    MISSISSIPPIAN = "Mississippian", "Mississippian", "密西西比亚纪"
    PENNSYLVANIAN = "Pennsylvanian", "Pennsylvanian", "宾夕法尼亚亚纪"
    VISEAN = "Visean", "Visean", "维宪期"
    SERPUKHOVIAN = "Serpukhovian", "Serpukhovian", "谢尔普霍夫期"
    BASHKIRIAN = "Bashkirian", "Bashkirian", "巴什基尔期"
    MOSCOVIAN = "Moscovian", "Moscovian", "莫斯科期"
    GUADALUPIAN = "Guadalupian", "Guadalupian", "瓜德鲁普世"
    LOPINGIAN = "Lopingian", "Lopingian", "乐平世"
    WUCHIAPINGIAN = "Wuchiapingian", "Wuchiapingian", "吴家坪期"
    INDUAN = "Induan", "Induan", "印度期"
    OLENEKIAN = "Olenekian", "Olenekian", "奥伦尼克期"
    ANISIAN = "Anisian", "Anisian", "安尼期"
    LADINIAN = "Ladinian", "Ladinian", "拉丁期"
    CARNIAN = "Carnian", "Carnian", "卡尼期"
    PLEISTOCENE = "Pleistocene", "Pleistocene", "更新世"
    MIDDLE_PLEISTOCENE = "Middle Pleistocene", "Middle Pleistocene", "中更新世"
    LATE_PLEISTOCENE = "Late Pleistocene", "Late Pleistocene", "晚更新世"


class Role(Vocabulary):
    """What an account may do (auth.POLICY), lowest first."""

    FIELD = "field", "field staff", "外业人员"
    EXPERT = "expert", "expert", "专家"
    ADMIN = "admin", "administrator", "管理员"


class VersionOperation(Vocabulary):
    """How a version of a feature came to be (its history)."""

    CREATE = "create", "created", "新建"
    UPDATE = "update", "changed", "修改"
    IMPORT = "import", "imported", "导入"
    RETIRE = "retire", "retired", "注销"
    RESTORE = "restore", "restored", "恢复旧版本"


class ProposalWarning(Vocabulary):
    """What a stored warning of a proposal is about (its code; the sentence itself is a message with a code)."""

    DEFAULTS = "defaults", "defaults filled in", "已填默认值"
    LOCATION_DERIVED = "location_derived", "location derived", "位置系推算"
    INPUT = "input", "as typed", "原始输入"
    COUNTY_UNCHECKED = "county_unchecked", "county not checked", "所在县未核对"
    FAR_FROM_COUNTY = "far_from_county", "far from its county", "远离所在县"
    SENSITIVITY_LOOSENED = "sensitivity_loosened", "sensitivity loosened", "位置保密放宽"
    LEVEL_LOWERED = "level_lowered", "level lowered", "保护级别降低"
    RETIRES_SITE = "retires_site", "retires the site", "注销产地"
    BOUNDARY_REMOVED = "boundary_removed", "boundary removed", "删除保护范围"
    NUMBERS_IN_TEXT = "numbers_in_text", "numbers in public text", "公开文字含数字"
    PUBLIC_TEXT_WRITTEN = "public_text_written", "public text written", "公开文字有改动"
    LINE_OUTSIDE_BOUNDARY = "line_outside_boundary", "line outside the boundary", "剖面线超出保护范围"
    OUTSIDE_REGION = "outside_region", "outside the region", "超出辖区"
    LOCATION_OUTSIDE_BOUNDARY = "location_outside_boundary", "location outside the boundary", "位置在保护范围外"
    FAR_FROM_CURRENT = "far_from_current", "far from the current location", "远离现位置"
    BELOW_ACCURACY = "below_accuracy", "below the required accuracy", "精度不足"
    PHONE_MAP_OFFSET = "phone_map_offset", "phone map offset", "手机地图偏移"
    OVERLAPS_SITE = "overlaps_site", "overlaps a site", "与其他产地重叠"
    INSIDE_SITE = "inside_site", "inside a site", "位于其他产地内"
    STALE_BASE = "stale_base", "made on an older version", "基于旧版本"
    SIMPLIFIED = "simplified", "boundary simplified", "边界已简化"
    REPAIRED = "repaired", "boundary repaired", "边界已修复"


__all__ += ["ScheduleStatus", "RevisionStatus", "RevisionKind", "RevisionEvent", "ImportOutcome", "ImportState",
            "TimeUnit", "Role", "VersionOperation", "ProposalWarning"]
VOCABULARIES += (ScheduleStatus, RevisionStatus, RevisionKind, RevisionEvent, ImportOutcome, ImportState,
                 TimeUnit, Role, VersionOperation, ProposalWarning)
