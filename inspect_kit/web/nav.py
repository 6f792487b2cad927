"""The menu of each role (declarative): the first entry is the role's start page."""

from __future__ import annotations

NAV: dict[str, tuple[tuple[str, str], ...]] = {
    "admin": (("/admin/users", "账号管理"), ("/admin/config", "配置")),
    "coordinator": (
        ("/coord", "本期工作"),
        ("/coord/registry", "名录导入"),
        ("/coord/draw/prepare", "抽取准备"),
        ("/coord/assign", "组队"),
        ("/coord/publish", "公示"),
    ),
    "inspector": (("/my/tasks", "我的任务"),),
    "reviewer": (("/review", "待审核结果"),),
    "assessor": (("/assess", "年度考核"),),
}


def nav_for(role: str) -> tuple[tuple[str, str], ...]:
    return NAV.get(role, ())
