"""The built-in event types of DESIGN.md §4, as data: code → (English name, Chinese name,
payload JSON Schema). ``services.ensure_builtin_event_types`` writes them."""

from __future__ import annotations

from typing import Any


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [],
            "additionalProperties": True}


_NUM = {"type": "number", "minimum": 0}
_STR = {"type": "string", "maxLength": 500}
_BOOL = {"type": "boolean"}

BUILTIN_EVENT_TYPES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "attendance_full_month": ("Full attendance for a month", "全勤",
                              _obj({"month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"}})),
    "attendance_late": ("Late arrival", "迟到", _obj({"minutes": _NUM})),
    "attendance_absent": ("Absence", "缺勤", _obj({"days": _NUM})),
    "performance_rating": ("Performance rating", "绩效评级",
                           _obj({"rating": {"type": "string", "enum": ["S", "A", "B", "C", "D"]},
                                 "period": _STR}, ["rating"])),
    "task_delivered": ("Task or project delivered", "任务/项目交付",
                       _obj({"name": _STR,
                             "difficulty": {"type": "string",
                                            "enum": ["low", "medium", "high", "critical"]},
                             "importance": {"type": "string", "enum": ["low", "medium", "high"]},
                             "on_time": _BOOL, "acclaim": _BOOL}, ["difficulty"])),
    "sales_target_reached": ("Sales target reached", "销售目标达成",
                             _obj({"percent": _NUM}, ["percent"])),
    "training_completed": ("Training completed", "完成培训",
                           _obj({"course": _STR, "days": _NUM, "hours": _NUM})),
    "certificate_obtained": ("Certificate obtained", "获得证书",
                             _obj({"name": _STR,
                                   "level": {"type": "string",
                                             "enum": ["junior", "intermediate", "senior"]}},
                                  ["level"])),
    "idea_adopted": ("Idea adopted", "建议被采纳", _obj({"title": _STR})),
    "helped_colleague": ("Helped a colleague or another department", "帮助同事/跨部门协作",
                         _obj({"description": _STR, "other_department": _BOOL,
                               "colleague_employee_no": _STR})),
    "volunteering": ("Volunteering", "志愿服务", _obj({"activity": _STR, "hours": _NUM})),
    "social_post_approved": ("Approved social media post", "正面宣传（已审核）",
                             _obj({"url": _STR, "platform": _STR})),
    "daily_checkin": ("Daily check-in", "每日签到", _obj({})),
    "comment": ("Comment", "评论", _obj({"target": _STR})),
    "share": ("Share", "分享", _obj({"target": _STR})),
    "download": ("Download", "下载", _obj({"target": _STR})),
}
