"""The words of impact screening that reach people: risk classes and what each asks for, project stages, decisions
and standard conditions. Codes are what the registry stores and the API answers; these English texts are the msgids
the web and API layers translate (translations/impact), so the Chinese report and the English one say the same."""
from __future__ import annotations


def _l(text: str) -> str:
    """Marks a message for extraction (tests/test_translations.py finds it); translated where it is shown."""
    return text


# Most severe first; "consult" is what anonymous callers get for a site whose exact figures are not public.
RISK_CLASSES = ("very_high", "high", "medium", "low")
CONSULT = "consult"
RISK_NAMES = {
    "very_high": _l("very high"),
    "high": _l("high"),
    "medium": _l("medium"),
    "low": _l("low"),
    CONSULT: _l("ask the museum"),
}
RISK_ACTIONS = {
    "very_high": _l("The project touches or adjoins a protected site: the museum's assessment is needed before "
                    "approval; expect an objection or strict conditions (realignment, rescue excavation)."),
    "high": _l("A field survey by the museum before approval; conditions such as palaeontological monitoring "
               "during excavation are likely."),
    "medium": _l("Inform the museum; a watching brief during earthworks may be asked for."),
    "low": _l("Note in the project file; finds made during construction must be reported (Regulations on the "
              "Protection of Fossils, art. 18)."),
    CONSULT: _l("The site's exact position is not public: contact the museum before planning further."),
}
RISK_COLOURS = {"very_high": "#b2182b", "high": "#ef8a62", "medium": "#f4c542", "low": "#67a9cf", CONSULT: "#777777"}

STAGES = ("planning", "application", "construction", "completed", "cancelled")
STAGE_NAMES = {"planning": _l("planning"), "application": _l("application for approval"),
               "construction": _l("under construction"), "completed": _l("completed"),
               "cancelled": _l("cancelled")}
DECISIONS = ("pending", "no_objection", "conditions", "objection")
DECISION_NAMES = {"pending": _l("no decision yet"), "no_objection": _l("no objection"),
                  "conditions": _l("no objection, with conditions"), "objection": _l("objection")}
# Conditions a museum typically attaches to a "no objection" (the free-text note says the rest).
CONDITIONS = ("survey", "monitoring", "stop_and_report", "fence", "realign", "rescue")
CONDITION_NAMES = {
    "survey": _l("field survey by the museum before construction"),
    "monitoring": _l("palaeontological monitoring during excavation"),
    "stop_and_report": _l("stop work and report any fossil find within 24 hours"),
    "fence": _l("fence and mark the protected area; no works inside it"),
    "realign": _l("realign or redesign the project to keep out of the protected area"),
    "rescue": _l("rescue excavation before construction starts"),
}
CHANGE_NAMES = {"boundary": _l("boundary changed"), "location": _l("location changed"),
                "level": _l("protection level changed"), "status": _l("retired or restored"),
                "new": _l("new site")}

NOTICE_GENERALIZED = _l("A protected site lies within %(km)d km of the footprint; its exact position is not public. "
                        "Contact the museum.")
NOTICE_HIDDEN = _l("A protected site whose position is not published lies within %(km)d km of the footprint. "
                   "Contact the museum.")
