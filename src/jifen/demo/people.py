"""Demo step 10: the company — a department tree, ~300 employees, a manager per
department and one login per role. Everything is written through ``jifen.people.services``."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from jifen.core.roles import Role
from jifen.demo._names import NameGenerator
from jifen.demo.builder import DEMO_LOGINS, DemoContext, demo_step
from jifen.people.models import EmployeeStatus
from jifen.people.services import (
    EmployeeData,
    mark_employee_left,
    set_roles,
    upsert_department,
    upsert_employee,
)

EMAIL_DOMAIN = "example.com"  # reserved (RFC 2606): demo mail can never reach anyone
EMPLOYEE_NO_PREFIX = "JF"
FORMER_EMPLOYEES = 4  # a few people who have left, so status filters have something to show

# A title per band of P grades: P1–P2, P3–P4, P5–P6, P7–P8.
Track = tuple[str, str, str, str]


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    parent: str | None
    headcount: int  # including the leaders
    leaders: tuple[tuple[str, str], ...]  # (title, grade); the first one manages it
    tracks: tuple[Track, ...]


DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec("GM", "总经办", None, 6,
                   (("总经理", "M4"), ("副总经理", "M3"), ("副总经理", "M3")),
                   (("总经理秘书", "总经理秘书", "高级总经理秘书", "总经理特别助理"),
                    ("战略分析助理", "战略分析师", "高级战略分析师", "战略专家"))),
    DepartmentSpec("RD", "研发中心", "GM", 8,
                   (("研发中心总监", "M3"), ("技术副总监", "M2")),
                   (("项目助理", "项目经理", "高级项目经理", "项目管理专家"),
                    ("助理架构师", "架构师", "高级架构师", "首席架构师"))),
    DepartmentSpec("RD-FE", "前端组", "RD", 40, (("前端组组长", "M1"),),
                   (("初级前端工程师", "前端工程师", "高级前端工程师", "前端技术专家"),
                    ("初级交互设计师", "交互设计师", "高级交互设计师", "交互设计专家"))),
    DepartmentSpec("RD-BE", "后端组", "RD", 55, (("后端组组长", "M1"),),
                   (("初级后端工程师", "后端工程师", "高级后端工程师", "后端技术专家"),
                    ("初级后端工程师", "后端工程师", "高级后端工程师", "后端技术专家"),
                    ("初级运维工程师", "运维工程师", "高级运维工程师", "运维专家"),
                    ("初级数据工程师", "数据工程师", "高级数据工程师", "数据专家"))),
    DepartmentSpec("RD-QA", "测试组", "RD", 25, (("测试组组长", "M1"),),
                   (("初级测试工程师", "测试工程师", "高级测试工程师", "测试专家"),
                    ("初级测试开发工程师", "测试开发工程师", "高级测试开发工程师",
                     "测试开发专家"))),
    DepartmentSpec("PRD", "产品部", "GM", 22, (("产品部经理", "M2"),),
                   (("产品助理", "产品经理", "高级产品经理", "产品专家"),
                    ("初级UI设计师", "UI设计师", "高级UI设计师", "视觉设计专家"),
                    ("用户研究助理", "用户研究员", "高级用户研究员", "用户研究专家"))),
    DepartmentSpec("MKT", "市场部", "GM", 24, (("市场部经理", "M2"),),
                   (("市场助理", "市场专员", "高级市场专员", "市场专家"),
                    ("新媒体运营助理", "新媒体运营", "高级新媒体运营", "品牌专家"),
                    ("活动策划助理", "活动策划", "高级活动策划", "活动策划专家"))),
    DepartmentSpec("SALES", "销售部", "GM", 6, (("销售总监", "M3"),),
                   (("销售助理", "销售运营专员", "高级销售运营专员", "销售运营专家"),
                    ("商务助理", "商务专员", "高级商务专员", "商务专家"))),
    DepartmentSpec("SALES-E", "华东销售组", "SALES", 40, (("华东区销售经理", "M1"),),
                   (("销售代表", "客户经理", "高级客户经理", "大客户经理"),
                    ("销售代表", "客户经理", "高级客户经理", "大客户经理"),
                    ("售前助理", "售前工程师", "高级售前工程师", "解决方案专家"))),
    DepartmentSpec("SALES-N", "华北销售组", "SALES", 35, (("华北区销售经理", "M1"),),
                   (("销售代表", "客户经理", "高级客户经理", "大客户经理"),
                    ("销售代表", "客户经理", "高级客户经理", "大客户经理"),
                    ("售前助理", "售前工程师", "高级售前工程师", "解决方案专家"))),
    DepartmentSpec("HR", "人力资源部", "GM", 14, (("人力资源部经理", "M2"),),
                   (("招聘助理", "招聘专员", "高级招聘专员", "招聘专家"),
                    ("薪酬福利助理", "薪酬福利专员", "高级薪酬福利专员", "薪酬福利专家"),
                    ("培训助理", "培训专员", "HRBP", "资深HRBP"))),
    DepartmentSpec("FIN", "财务部", "GM", 12, (("财务部经理", "M2"),),
                   (("出纳", "会计", "高级会计", "财务专家"),
                    ("审计助理", "内审专员", "高级内审专员", "审计专家"),
                    ("财务分析助理", "财务分析师", "高级财务分析师", "财务分析专家"))),
    DepartmentSpec("ADM", "行政部", "GM", 13, (("行政部经理", "M2"),),
                   (("行政助理", "行政专员", "高级行政专员", "行政专家"),
                    ("福利助理", "福利专员", "高级福利专员", "福利专家"),
                    ("IT助理", "IT支持工程师", "高级IT工程师", "IT专家"))),
)

# Who holds each demo login: (department code, title, grade); the manager login is the
# head of 研发中心 so it has a subtree of three groups to look after.
LOGIN_SEATS: dict[str, tuple[str, str, str]] = {
    Role.EMPLOYEE: ("RD-FE", "前端工程师", "P4"),
    Role.HR_ADMIN: ("HR", "HRBP", "P5"),
    Role.MALL_ADMIN: ("ADM", "福利专员", "P4"),
    Role.AUDITOR: ("FIN", "内审专员", "P4"),
    Role.SUPER_ADMIN: ("ADM", "IT系统管理员", "P6"),
}
MANAGER_LOGIN_DEPARTMENT = "RD"

P_GRADE_WEIGHTS = {"P1": 4, "P2": 10, "P3": 20, "P4": 24, "P5": 20, "P6": 12, "P7": 7, "P8": 3}
# Years of service a person at each grade plausibly has: (least, most). The company is ten
# years old and its general manager (M4) has been there from the start, so is JF0001.
TENURE_YEARS = {
    "P1": (0.1, 1.5), "P2": (0.2, 3), "P3": (0.5, 4), "P4": (1, 6), "P5": (2, 8),
    "P6": (3, 9), "P7": (4, 9.9), "P8": (5, 9.9),
    "M1": (2, 8), "M2": (3, 9), "M3": (5, 9.9), "M4": (10, 10),
}
PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "135", "136", "137", "138", "139", "150", "151", "152", "158", "159",
    "177", "180", "186", "187", "188", "189",
)


@dataclass
class PlannedEmployee:
    """One person of the plan, before anything is written."""

    name: str
    email: str
    phone: str
    department: str
    position: str
    grade: str
    hire_date: date
    employee_no: str = ""
    manages: str | None = None  # department code
    login_role: str | None = None
    leaves_on: date | None = None


@dataclass
class CompanyPlan:
    employees: list[PlannedEmployee] = field(default_factory=list)


def _title(track: Track, grade: str) -> str:
    return track[min(3, (int(grade[1:]) - 1) // 2)]


def _hire_date(rng: random.Random, grade: str, today: date) -> date:
    least, most = TENURE_YEARS[grade]
    days = rng.randint(max(14, int(least * 365)), int(most * 365))
    hired = today - timedelta(days=days)
    # People start on a weekday.
    while hired.weekday() >= 5:
        hired -= timedelta(days=1)
    return hired


def plan_company(rng: random.Random, today: date) -> CompanyPlan:
    """The whole company as plain data. Depends only on ``rng`` and ``today``, so the same
    seed gives the same people."""
    names = NameGenerator(rng)
    emails: set[str] = set()
    phones: set[str] = set()

    def person(dept: str, position: str, grade: str) -> PlannedEmployee:
        drawn = names.draw()
        local, n = drawn.pinyin, 1
        while local in emails:
            n += 1
            local = f"{drawn.pinyin}{n}"
        emails.add(local)
        phone = ""
        while not phone or phone in phones:
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        phones.add(phone)
        return PlannedEmployee(
            name=drawn.name, email=f"{local}@{EMAIL_DOMAIN}", phone=phone, department=dept,
            position=position, grade=grade, hire_date=_hire_date(rng, grade, today),
        )

    grades, weights = list(P_GRADE_WEIGHTS), list(P_GRADE_WEIGHTS.values())
    plan = CompanyPlan()
    for spec in DEPARTMENTS:
        members: list[PlannedEmployee] = []
        for i, (title, grade) in enumerate(spec.leaders):
            leader = person(spec.code, title, grade)
            if i == 0:
                leader.manages = spec.code
                if spec.code == MANAGER_LOGIN_DEPARTMENT:
                    leader.login_role = Role.MANAGER
            members.append(leader)
        for role, (dept, title, grade) in LOGIN_SEATS.items():
            if dept == spec.code:
                seat = person(spec.code, title, grade)
                seat.login_role = role
                members.append(seat)
        while len(members) < spec.headcount:
            grade = rng.choices(grades, weights)[0]
            members.append(person(spec.code, _title(rng.choice(spec.tracks), grade), grade))
        plan.employees.extend(members)

    # Employee numbers follow hire dates, like a real HR system's.
    ordered = sorted(enumerate(plan.employees), key=lambda pair: (pair[1].hire_date, pair[0]))
    for number, (_index, planned) in enumerate(ordered, start=1):
        planned.employee_no = f"{EMPLOYEE_NO_PREFIX}{number:04d}"

    staff = [p for p in plan.employees if p.manages is None and p.login_role is None
             and p.hire_date < today - timedelta(days=180)]
    for planned in rng.sample(staff, FORMER_EMPLOYEES):
        planned.leaves_on = today - timedelta(days=rng.randint(20, 150))
    return plan


@demo_step(order=10, name="people")
def create_people(ctx: DemoContext) -> None:
    plan = plan_company(ctx.rng, ctx.today)
    logins = {role: username for role, username in DEMO_LOGINS}

    for spec in DEPARTMENTS:
        ctx.departments[spec.code], _ = upsert_department(
            code=spec.code, name=spec.name, parent_code=spec.parent
        )

    created = {}
    for planned in sorted(plan.employees, key=lambda p: p.employee_no):
        employee, _ = upsert_employee(data=EmployeeData(
            employee_no=planned.employee_no, name=planned.name,
            department_code=planned.department, email=planned.email, phone=planned.phone,
            position=planned.position, grade=planned.grade, hire_date=planned.hire_date,
            username=logins[planned.login_role] if planned.login_role else None,
            initial_password=ctx.password if planned.login_role else None,
        ))
        created[planned.employee_no] = employee
        if planned.login_role:
            ctx.logins[planned.login_role] = employee

    for spec in DEPARTMENTS:
        manager = next(p for p in plan.employees if p.manages == spec.code)
        ctx.departments[spec.code], _ = upsert_department(
            code=spec.code, name=spec.name, parent_code=spec.parent,
            manager_employee_no=manager.employee_no,
        )
        ctx.managers[spec.code] = created[manager.employee_no]

    for role, employee in ctx.logins.items():
        if role not in (Role.EMPLOYEE, Role.MANAGER):
            set_roles(user=employee.user, roles=[role], actor=None)

    for planned in plan.employees:
        if planned.leaves_on:
            created[planned.employee_no] = mark_employee_left(
                employee=created[planned.employee_no], actor=None, left_on=planned.leaves_on
            )

    everyone = [created[no] for no in sorted(created)]
    ctx.employees = [e for e in everyone if e.status == EmployeeStatus.ACTIVE]
    ctx.former_employees = [e for e in everyone if e.status == EmployeeStatus.LEFT]
    ctx.log(f"    {len(ctx.departments)} departments, {len(ctx.employees)} employees "
            f"(+{len(ctx.former_employees)} former)")
