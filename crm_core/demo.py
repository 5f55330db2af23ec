"""Demo data: a credible roster of a municipal CPPCC and a year of its liaison work.

``generate(app)`` fills an *empty* database with what a newcomer expects to see in the
Yangzhou office: about 450 members (委员, a few dozen of them 常委) and outside contacts,
with Chinese names drawn by real surname frequencies (polyphonic and compound surnames
included, so pinyin search shows what it can do), parties and sectors that agree with
each other, employers typical of Yangzhou, the eight democratic parties and the
federation of industry and commerce with their contact persons, the office's accounts
(chair, vice-chairs, secretary-general, party group, committee directors, office, county
staff), the chair-meeting members' liaison assignments (seed 二.9) with a gap and some
overdue contacts, a year of calls, meetings and notes (and the next four weeks' plan),
and the follow-ups of the concerns raised in them. Then each plugin's ``populate_demo``
hook adds its own kinds of work (visits, heart-to-heart talks, ...) through the services,
from the same seeded generator.

The same seed and the same ``today`` give the same rows, ids included: every UUID and
every time comes from ``random.Random(seed)`` and from ``today``, never from the clock
(rows that plugins write through the services have the services' own ids).

The bulk (people, interactions, participants, follow-ups) is written with multi-row
``INSERT`` statements in one transaction, deriving the computed columns exactly as the
services do (pinyin keys, normalised names, phone digits); 100,000 people and a million
interactions take about two and a half minutes of one CPU on SQLite (bench/RESULTS.md).
Bulk statements bypass the audit listener, so one ``AuditLog`` row (action ``demo``)
records what was generated. Accounts go through
:func:`crm_core.services.accounts.create_account`.
"""

from __future__ import annotations

import bisect
import itertools
import random
import typing
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlmodel import SQLModel, col

from crm_core import clock, pinyin
from crm_core.demo_context import DemoContext
from crm_core.errors import TongxinError, ValidationError
from crm_core.i18n import N_
from crm_core.kinds import KindSpec
from crm_core.models import (
    Account,
    Assignment,
    AuditLog,
    FollowUp,
    FollowUpStatus,
    Gender,
    Interaction,
    InteractionParticipant,
    InteractionStatus,
    Membership,
    Organisation,
    OrganisationContact,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
    Role,
)
from crm_core.services.accounts import create_account

if TYPE_CHECKING:
    from crm_core.app import Tongxin
    from crm_core.unit import Unit

__all__ = ["MIN_CONTACTS", "DemoRefused", "DemoSummary", "default_interactions", "generate"]

MIN_CONTACTS = 100  # enough for the leaders, the organisations' contacts and assignments
BATCH = 5_000  # rows per INSERT statement
MEMBERS = 450  # a municipal committee's size
DEFAULT_INTERACTIONS_CAP = 60_000  # what an office of a few dozen users logs in a year


# The version (4) and variant (RFC 4122) bits of a random UUID.
_UUID_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_UUID_V4 = (0x8000 << 48) | (4 << 76)


class DemoRefused(TongxinError):
    """The database already holds people: demo data is never mixed with real data."""


@dataclass
class DemoSummary:
    """How many rows of each kind :func:`generate` wrote."""

    people: int
    accounts: int
    interactions: int
    follow_ups: int
    assignments: int
    organisations: int


def default_interactions(contacts: int) -> int:
    """About a year of an office's work for ``contacts`` people: 1.5 a contact, capped
    at what a few dozen users can log in a year."""
    return min(round(contacts * 1.5), DEFAULT_INTERACTIONS_CAP)


def generate(
    app: Tongxin,
    *,
    contacts: int = 2000,
    seed: int = 2019,
    interactions: int | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Fill the empty database of ``app`` with ``contacts`` people and their history.

    ``interactions`` is how many the core writes, about a year of work by default
    (:func:`default_interactions`), never fewer than the assignments' own history (a
    few per assignment); the plugins' ``populate_demo`` add their own after that.
    ``today`` (default: today in the office's zone) anchors every date, so the same
    ``seed`` and ``today`` give identical rows. ``progress(done, total)`` is called as
    rows are written (people plus interactions). Everything is one transaction: on any
    error nothing is left behind. Raises :class:`DemoRefused` if the database already
    holds people, and ValidationError for fewer than ``MIN_CONTACTS`` contacts.
    """
    if contacts < MIN_CONTACTS:
        raise ValidationError.one(
            "contacts", contacts, N_("the demo needs at least {n}"), n=MIN_CONTACTS
        )
    count = default_interactions(contacts) if interactions is None else interactions
    if count < 0:
        raise ValidationError.one("interactions", interactions, N_("cannot be negative"))
    day = today or clock.today(app.config.tz)
    with app.unit() as unit:
        existing = unit.session.scalar(select(func.count()).select_from(Person)) or 0
        if existing:
            raise DemoRefused.of(
                N_(
                    "the database already holds {existing} people: demo data is only "
                    "generated into an empty database"
                ),
                existing=existing,
            )
        with _bulk_settings(unit):
            gen = _Generator(unit, seed=seed, today=day, progress=progress)
            gen.run(contacts=contacts, interactions=count)
        # Each plugin adds its own kinds of work through the services, from the same
        # seeded generator; one that fails leaves nothing behind and the rest go on.
        unit.plugins.call("populate_demo", guard=unit.savepoint, unit=unit, demo=gen.context())
        unit.session.flush()
        if unit.session.connection().dialect.name == "postgresql":
            # Fresh statistics for the planner (autovacuum would gather them a minute
            # later; until then a join can pick a plan that takes seconds).
            unit.session.execute(text("ANALYZE"))
        summary = _summary(unit)
        unit.session.add(
            AuditLog(
                actor_id=unit.actor.id if unit.actor else None,
                actor=unit.actor_name,
                action="demo",
                entity="database",
                entity_id="demo",
                after={
                    **asdict(summary),
                    "seed": seed,
                    "today": day.isoformat(),
                    "interactions_requested": count,
                },
            )
        )
    return summary


def _summary(unit: Unit) -> DemoSummary:
    def count(model: type[SQLModel]) -> int:
        return unit.session.scalar(select(func.count()).select_from(model)) or 0

    return DemoSummary(
        people=count(Person),
        accounts=count(Account),
        interactions=count(Interaction),
        follow_ups=count(FollowUp),
        assignments=count(Assignment),
        organisations=count(Organisation),
    )


@contextmanager
def _bulk_settings(unit: Unit) -> Iterator[None]:
    # A bigger page cache for the duration (random UUID keys touch pages all over each
    # index); the connection goes back to the pool as it was.
    conn = unit.session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.execute(text("PRAGMA cache_size")).scalar()
    conn.execute(text("PRAGMA cache_size = -1048576"))  # 1 GiB, taken only as needed
    try:
        yield
    finally:
        conn.execute(text(f"PRAGMA cache_size = {int(before or -2000)}"))


# Tables whose secondary indexes are dropped during a large load and rebuilt after it:
# building an index once from sorted keys is far cheaper than a million random inserts.
_DEFERRED_INDEX_TABLES = ("interaction", "interaction_participant", "follow_up")
_DEFER_INDEXES_FROM = 50_000  # rows of interactions


@contextmanager
def _deferred_indexes(unit: Unit, tables: Sequence[str]) -> Iterator[None]:
    # Only plain indexes are dropped (not those behind a primary key or a unique
    # constraint), and each is recreated from the definition the database itself gave,
    # in the same transaction: on any error, the rollback restores them.
    conn = unit.session.connection()
    if not tables:
        yield
        return
    if conn.dialect.name == "sqlite":
        found = conn.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                "AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN :tables"
            ).bindparams(bindparam("tables", expanding=True)),
            {"tables": list(tables)},
        ).all()
    elif conn.dialect.name == "postgresql":
        found = conn.execute(
            text(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
                "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
                "WHERE t.relname = ANY(:tables) "
                "AND t.relnamespace = current_schema()::regnamespace "
                "AND NOT x.indisprimary AND NOT x.indisunique"
            ),
            {"tables": list(tables)},
        ).all()
    else:
        found = []
    preparer = conn.dialect.identifier_preparer
    for name, _sql in found:
        conn.execute(text(f"DROP INDEX {preparer.quote(name)}"))
    yield
    for _name, sql in found:
        conn.execute(text(sql))


@contextmanager
def _seeded_ids(model: type[SQLModel], make: Callable[[], uuid.UUID]) -> Iterator[None]:
    # Rows created through a service get their id from the model's default factory;
    # for the demo to be reproducible, that factory draws from the seeded generator
    # while the demo makes its accounts (a one-off command: no other thread is writing).
    info = model.model_fields["id"]
    original = info.default_factory
    info.default_factory = make
    try:
        yield
    finally:
        info.default_factory = original


# ---------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Surnames with weights close to their share of the population of Jiangsu (per ten
# thousand), then a few polyphonic ones (read differently as surnames) and compound ones.
_SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 710), ("张", 680), ("陈", 560), ("李", 560), ("刘", 450), ("徐", 290),
    ("杨", 300), ("吴", 260), ("周", 240), ("朱", 230), ("黄", 200), ("孙", 200),
    ("赵", 180), ("胡", 140), ("顾", 120), ("高", 120), ("马", 120), ("郭", 100),
    ("何", 90), ("陆", 110), ("许", 90), ("钱", 80), ("沈", 80), ("蒋", 80), ("丁", 70),
    ("曹", 70), ("林", 70), ("唐", 70), ("郑", 70), ("罗", 60), ("谢", 60), ("宋", 60),
    ("韩", 60), ("冯", 60), ("董", 60), ("姚", 60), ("戴", 60), ("夏", 55), ("叶", 55),
    ("程", 55), ("袁", 50), ("潘", 50), ("蔡", 50), ("姜", 50), ("汤", 45), ("邓", 40),
    ("彭", 40), ("肖", 40), ("田", 40), ("于", 40), ("余", 40), ("杜", 40), ("苏", 40),
    ("魏", 40), ("吕", 40), ("任", 40), ("汪", 40), ("范", 40), ("金", 40), ("梁", 40),
    ("卢", 30), ("崔", 30), ("钟", 30), ("石", 30), ("贾", 30), ("方", 30), ("秦", 30),
    ("江", 30), ("薛", 30), ("曾", 30), ("严", 25), ("龚", 25), ("邵", 25), ("陶", 25),
    ("史", 22), ("谭", 20), ("廖", 20), ("韦", 20), ("付", 20), ("白", 20), ("邹", 20),
    ("孟", 20), ("熊", 20), ("邱", 20), ("尹", 20), ("毛", 18), ("贺", 15), ("闫", 15),
    ("段", 15), ("雷", 15), ("侯", 15), ("万", 15), ("武", 15), ("孔", 15), ("郝", 10),
    ("龙", 10), ("黎", 10), ("莫", 10), ("向", 8), ("覃", 5),
    ("单", 8), ("解", 5), ("仇", 4), ("查", 4), ("朴", 2), ("区", 1),
    ("欧阳", 5), ("司马", 1.5), ("上官", 1.5), ("诸葛", 1),
)  # fmt: skip

_GIVEN: dict[Gender, dict[str, tuple[str, ...]]] = {
    Gender.male: {
        "whole": _words(
            "建国 建华 建军 建平 建明 国强 国平 国华 国庆 志强 志刚 志明 志勇 海涛 海峰 "
            "海波 晓东 晓明 晓峰 晓辉 文斌 文杰 文华 俊杰 明亮 永刚 永平 立新 立军 卫东 "
            "卫国 春生 金龙 宏伟 伟民 振华 德明 德林 学军 学文 兆祥 长青 正阳 新民 玉林 "
            "荣华 家驹 浩然 宇航 鹏飞 子健 一鸣 天宇 思远 博文 嘉诚 雨辰 锦程 庆丰 汉卿"
        ),
        "first": tuple("建国志海晓文俊明永立卫振德宏伟家子浩宇天思博嘉一皓鹏晨学兆正新荣"),
        "second": tuple("军华强平峰涛斌杰勇刚辉鹏林波宁新东明龙超飞磊鑫宇阳成兵亮江锋荣祥生"),
        "single": tuple("伟强军磊勇杰涛斌峰刚辉鹏超明平华波健亮浩宇翔彬凯松帅胜顺森"),
    },
    Gender.female: {
        "whole": _words(
            "秀英 桂英 玉兰 丽华 海燕 晓燕 晓红 丽娟 雪梅 春梅 美玲 红梅 晓梅 慧敏 文静 "
            "婷婷 雅琴 玉珍 凤英 淑芬 丽萍 月华 秀兰 金凤 桂芳 晓丽 春燕 亚平 静怡 佳琪 "
            "欣怡 思雨 梦瑶 诗琪 婉清 雨桐 嘉欣 若溪 一诺 晓雯 丽君 美华 琼花 淑贞 爱华"
        ),
        "first": tuple("秀丽晓雪春美红慧文雅玉静佳欣思梦诗婉雨嘉若亚月金爱淑琼"),
        "second": tuple("英兰华燕红娟梅玲敏静琴芳萍霞莉婷颖洁琳娜丹蓉倩怡琪雯妍"),
        "single": tuple("丽敏静燕红芳霞艳玲娟婷颖洁琳娜丹萍英梅慧淑莎爽素"),
    },
}
_MOBILE_PREFIXES = _words(
    "138 139 135 136 137 150 151 152 157 158 159 182 183 187 188 130 131 132 155 156 185 186 "
    "133 153 180 181 189 177 199 198"
)
_DHARMA_FIRST = tuple("能法慧觉明净智心常德妙广宏圣道")
_DHARMA_SECOND = tuple("修宗源空悟真如信成照性光海禅华")

_MINORITIES: tuple[tuple[str, float], ...] = (
    ("回族", 40), ("满族", 20), ("蒙古族", 10), ("壮族", 8), ("苗族", 5), ("土家族", 5),
    ("朝鲜族", 4), ("彝族", 3), ("侗族", 2), ("布依族", 2), ("白族", 1),
)  # fmt: skip

# ---------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------

_ROADS: dict[str, tuple[str, ...]] = {
    "city": ("文昌中路", "文昌西路", "江阳中路", "扬子江中路", "运河西路", "新城河路"),
    "guangling": ("文昌中路", "汶河南路", "东关街", "国庆路", "渡江路", "运河南路", "解放南路",
                  "琼花路", "广陵路", "泰州路"),
    "hanjiang": ("邗江中路", "文汇西路", "江阳西路", "扬子江北路", "维扬路", "翠岗路", "西湖路"),
    "jiangdu": ("龙川北路", "舜天路", "长江路", "文昌东路", "仙城路", "工农路"),
    "baoying": ("安宜东路", "白田路", "叶挺路", "苏中路", "城中路"),
    "yizheng": ("真州中路", "大庆北路", "工农南路", "解放东路", "胥浦路"),
    "gaoyou": ("文游中路", "海潮东路", "屏淮路", "府前街", "盂城路"),
}  # fmt: skip
_ESTATES = (
    "名都花园", "京华城", "翠岗花园", "双桥花园", "文昌花园", "鸿福家园", "瘦西湖新苑",
    "锦绣花园", "凤凰城", "梅岭小区", "水岸花都", "东方百合园", "蓝湾国际", "颐和园小区",
)  # fmt: skip
# How a company in a region is named ("扬州", "高邮市") and where the region is written.
_PLACE: dict[str, str] = {
    "city": "扬州", "guangling": "扬州", "hanjiang": "扬州", "jiangdu": "扬州市江都",
    "baoying": "宝应县", "yizheng": "仪征市", "gaoyou": "高邮市",
}  # fmt: skip
_SCHOOLS: dict[str, tuple[str, ...]] = {
    "city": ("江苏省扬州中学", "扬州市新华中学", "扬州中学教育集团树人学校", "扬州市梅岭小学"),
    "guangling": ("扬州市育才小学", "扬州市田家炳实验中学", "扬州市汶河小学"),
    "hanjiang": ("江苏省邗江中学", "扬州市邗江实验学校"),
    "jiangdu": ("江苏省江都中学", "扬州市江都区实验小学"),
    "baoying": ("江苏省宝应中学", "宝应县实验小学"),
    "yizheng": ("江苏省仪征中学", "仪征市实验小学"),
    "gaoyou": ("江苏省高邮中学", "高邮市城北小学"),
}  # fmt: skip
_HOSPITALS: dict[str, tuple[str, ...]] = {
    "city": ("苏北人民医院", "扬州市第一人民医院", "扬州大学附属医院", "扬州市中医院",
             "扬州市妇幼保健院", "扬州市疾病预防控制中心"),
    "guangling": ("扬州市第三人民医院", "苏北人民医院"),
    "hanjiang": ("扬州市邗江区人民医院", "扬州市第一人民医院"),
    "jiangdu": ("扬州市江都人民医院", "扬州市江都中医院"),
    "baoying": ("宝应县人民医院", "宝应县中医院"),
    "yizheng": ("仪征市人民医院", "仪征市中医院"),
    "gaoyou": ("高邮市人民医院", "高邮市中医医院"),
}  # fmt: skip
_MEETING_PLACES = (
    "市政协机关三楼会议室", "市政协机关五楼会议室", "市政协委员活动之家（东关街）",
    "市政协委员会客室", "市行政服务中心会议室", "广陵区委员活动之家", "邗江区委员活动之家",
)  # fmt: skip
_TRADE = _words(
    "恒润 润扬 瑞丰 汇通 亚联 华宇 天成 鼎盛 嘉泰 宏达 扬帆 运河 琼花 绿杨 四季 长乐 东泰 "
    "新瑞 永昌 鑫源 昌和 中扬 博远 江淮 荣升 海天 锦华 明德 诚信 启航 金桥 仁和 同创 万达"
)
_INDUSTRY = (
    "智能科技", "电子科技", "机械制造", "汽车零部件", "新材料", "生物医药", "建设工程",
    "房地产开发", "食品", "玩具", "口腔清洁用品", "酒店用品", "漆器工艺品", "光电科技",
    "船舶配套", "环保科技", "物流", "餐饮管理", "文化旅游", "水产", "电气设备", "纺织",
)  # fmt: skip
_YZU_SCHOOLS = (
    "扬州大学文学院", "扬州大学物理科学与技术学院", "扬州大学医学院", "扬州大学农学院",
    "扬州大学兽医学院", "扬州大学商学院", "扬州大学法学院", "扬州大学旅游烹饪学院",
    "扬州大学水利科学与工程学院", "扬州大学教育科学学院",
)  # fmt: skip
_GOVT = (
    "扬州市发展和改革委员会", "扬州市财政局", "扬州市教育局", "扬州市卫生健康委员会",
    "扬州市自然资源和规划局", "扬州市住房和城乡建设局", "扬州市商务局",
    "扬州市文化广电和旅游局", "扬州市民族宗教事务局", "扬州市人民检察院",
    "扬州市中级人民法院", "中共扬州市委统战部", "中共扬州市委宣传部", "扬州市司法局",
    "扬州市工业和信息化局", "扬州市农业农村局", "扬州市生态环境局",
)  # fmt: skip

# ---------------------------------------------------------------------------------------
# Who people are: archetypes with their jobs, parties, sectors and committees
# ---------------------------------------------------------------------------------------

_CHAIR_POSITIONS = ("主席", "副主席", "副主席", "副主席", "副主席", "副主席", "副主席", "秘书长")
_VICE_CHAIR_PARTIES = ("ccp", "ccp", "cdl", "cndca", "jiusan", "non_affiliated")
_DEMOCRATIC = ("rcck", "cdl", "cndca", "capd", "cpwdp", "czgp", "jiusan", "tdsgl")
_PARTY_ZH = {
    "rcck": "民革", "cdl": "民盟", "cndca": "民建", "capd": "民进", "cpwdp": "农工党",
    "czgp": "致公党", "jiusan": "九三学社", "tdsgl": "台盟",
}  # fmt: skip


@dataclass(frozen=True)
class _Job:
    """Employers (templates) and the titles people hold there."""

    employers: tuple[str, ...]
    titles: tuple[str, ...]
    faith: str | None = None  # buddhist | islam | taoist | christian | catholic


@dataclass(frozen=True)
class _Arch:
    """A kind of person the office deals with."""

    code: str
    member_weight: float
    outside_weight: float
    parties: tuple[tuple[str, float], ...]
    sectors: tuple[str, ...]
    committees: tuple[str, ...]
    jobs: tuple[_Job, ...]
    intellectual: bool = False


_ARCHETYPES: tuple[_Arch, ...] = (
    _Arch(
        "official", 0.10, 0.03,
        (("ccp", 0.9), ("cdl", 0.03), ("rcck", 0.03), ("non_affiliated", 0.04)),
        ("ccp", "specially_invited", "social_welfare"),
        ("proposals", "social_legal", "economy", "environment"),
        (_Job(("{govt}",), ("局长", "副局长", "处长", "副主任", "二级巡视员", "主任")),),
    ),
    _Arch(
        "education", 0.13, 0.12,
        (("ccp", 0.25), ("cdl", 0.2), ("capd", 0.2), ("jiusan", 0.05), ("non_affiliated", 0.1),
         ("masses", 0.2)),
        ("education", "social_sciences"),
        ("education_science", "culture_history", "proposals"),
        (
            _Job(("{yzu}",), ("教授", "副教授", "院长", "副院长", "博士生导师")),
            _Job(("{school}",), ("校长", "副校长", "高级教师", "特级教师", "教研组长")),
            _Job(("扬州市职业大学", "扬州工业职业技术学院", "江苏旅游职业学院"),
                 ("副校长", "教授", "系主任", "副教授")),
        ),
        intellectual=True,
    ),
    _Arch(
        "medicine", 0.10, 0.10,
        (("ccp", 0.25), ("cpwdp", 0.3), ("jiusan", 0.1), ("cdl", 0.05), ("non_affiliated", 0.1),
         ("masses", 0.2)),
        ("medicine_health",),
        ("education_science", "social_legal"),
        (_Job(("{hospital}",),
              ("主任医师", "副主任医师", "副院长", "科主任", "护士长", "主治医师")),),
        intellectual=True,
    ),
    _Arch(
        "science", 0.07, 0.05,
        (("ccp", 0.3), ("jiusan", 0.35), ("cdl", 0.05), ("non_affiliated", 0.1), ("masses", 0.2)),
        ("science_technology", "science_association"),
        ("education_science", "economy", "environment"),
        (
            _Job(("{yzu}",), ("教授", "研究员", "副教授")),
            _Job(("江苏里下河地区农业科学研究所", "中国船舶集团第七二三研究所",
                  "扬州市产业技术研究院", "扬州市农业科学研究院"),
                 ("研究员", "副研究员", "高级工程师", "所长", "副所长")),
        ),
        intellectual=True,
    ),
    _Arch(
        "culture", 0.10, 0.05,
        (("ccp", 0.25), ("capd", 0.2), ("cdl", 0.15), ("non_affiliated", 0.1), ("masses", 0.3)),
        ("culture_arts", "press_publishing", "social_sciences", "sports"),
        ("culture_history", "education_science"),
        (
            _Job(("扬州市曲艺研究所", "扬州市扬剧研究所", "扬州市歌舞剧院"),
                 ("国家一级演员", "扬州评话演员", "所长", "副所长")),
            _Job(("扬州画院", "扬州市书法家协会", "扬州市美术家协会"),
                 ("画家", "副院长", "书法家", "副主席")),
            _Job(("扬州博物馆", "扬州中国大运河博物馆", "扬州市文化馆", "扬州市图书馆"),
                 ("馆长", "副馆长", "研究馆员")),
            _Job(("扬州日报社", "扬州广播电视总台", "广陵书社"),
                 ("副总编辑", "主任记者", "编辑", "主持人")),
            _Job(("扬州市体育运动学校",), ("校长", "高级教练")),
        ),
        intellectual=True,
    ),
    _Arch(
        "private_economy", 0.16, 0.30,
        (("cndca", 0.25), ("ccp", 0.15), ("czgp", 0.05), ("rcck", 0.05), ("non_affiliated", 0.05),
         ("masses", 0.45)),
        ("economy", "federation_ic"),
        ("economy", "environment", "proposals"),
        (
            _Job(("{place}{trade}{industry}有限公司", "江苏{trade}{industry}股份有限公司",
                  "{place}{trade}{industry}有限公司"),
                 ("董事长", "总经理", "董事长兼总经理", "执行董事", "副总经理")),
        ),
    ),
    _Arch(
        "new_stratum", 0.07, 0.25,
        (("masses", 0.5), ("non_affiliated", 0.1), ("rcck", 0.1), ("cndca", 0.1), ("capd", 0.05),
         ("cdl", 0.05), ("ccp", 0.1)),
        ("social_welfare", "specially_invited", "youth_federation"),
        ("social_legal", "economy", "proposals"),
        (
            _Job(("江苏{trade}律师事务所", "江苏{trade}律师事务所扬州分所"),
                 ("主任", "高级合伙人", "合伙人", "律师")),
            _Job(("扬州{trade}会计师事务所有限公司", "扬州{trade}税务师事务所有限公司"),
                 ("所长", "注册会计师", "合伙人", "注册税务师")),
            _Job(("扬州{trade}文化传媒有限公司", "扬州{trade}电子商务有限公司"),
                 ("创始人", "总经理", "主编", "运营总监")),
            _Job(("扬州市{trade}社会工作服务中心", "扬州市{trade}公益发展中心"),
                 ("理事长", "主任", "社工督导")),
            _Job(("扬州{trade}建筑设计有限公司", "扬州{trade}资产评估有限公司"),
                 ("总建筑师", "总经理", "评估师")),
            _Job(("自由职业",), ("作家", "摄影师", "独立设计师", "自由撰稿人")),
        ),
    ),
    _Arch(
        "religious", 0.03, 0.02,
        (("masses", 0.7), ("non_affiliated", 0.3)),
        ("religion",),
        ("ethnic_religious",),
        (
            _Job(("大明寺", "高旻寺", "扬州市佛教协会", "观音山禅寺"),
                 ("方丈", "监院", "知客", "法师", "法师", "副会长"), "buddhist"),
            _Job(("仙鹤寺", "扬州市伊斯兰教协会"), ("教长", "阿訇", "阿訇", "副会长"), "islam"),
            _Job(("琼花观", "扬州市道教协会"), ("住持", "道长", "道长", "副会长"), "taoist"),
            _Job(("扬州市基督教两会",), ("牧师", "牧师", "长老", "副会长"), "christian"),
            _Job(("扬州市天主教爱国会",), ("神父", "主任"), "catholic"),
        ),
    ),
    _Arch(
        "ethnic", 0.02, 0.01,
        (("masses", 0.4), ("ccp", 0.3), ("non_affiliated", 0.1), ("cdl", 0.1), ("cpwdp", 0.1)),
        ("ethnic_minorities",),
        ("ethnic_religious",),
        (
            _Job(("{hospital}", "{school}"), ("主任医师", "高级教师", "副院长", "副校长")),
            _Job(("{place}{trade}{industry}有限公司",), ("董事长", "总经理")),
        ),
    ),
    _Arch(
        "hk_macao", 0.04, 0.03,
        (("masses", 0.6), ("non_affiliated", 0.3), ("czgp", 0.1)),
        ("hk_macao",),
        ("hk_macao_taiwan",),
        (
            _Job(("香港{trade}集团有限公司", "澳门{trade}投资有限公司", "香港{trade}贸易有限公司"),
                 ("董事长", "董事总经理", "执行董事")),
            _Job(("香港扬州同乡会", "澳门江苏联谊会", "香港江苏社团总会"), ("会长", "副会长")),
        ),
    ),
    _Arch(
        "mass_org", 0.08, 0.01,
        (("ccp", 0.6), ("masses", 0.2), ("cdl", 0.05), ("capd", 0.05), ("non_affiliated", 0.1)),
        ("youth_league", "trade_unions", "womens_federation", "youth_federation",
         "taiwan_federation", "overseas_chinese", "science_association"),
        ("social_legal", "hk_macao_taiwan", "proposals"),
        (),  # employer follows the sector: see _MASS_ORGS
    ),
    _Arch(
        "agriculture", 0.05, 0.03,
        (("ccp", 0.3), ("masses", 0.4), ("cpwdp", 0.1), ("jiusan", 0.1), ("non_affiliated", 0.1)),
        ("agriculture",),
        ("agriculture", "environment"),
        (
            _Job(("{place}{trade}农业专业合作社", "{place}{trade}水产养殖有限公司",
                  "{place}{trade}家庭农场"), ("理事长", "场长", "总经理")),
            _Job(("扬州市农业技术推广站", "江苏里下河地区农业科学研究所"),
                 ("农业技术推广研究员", "站长", "研究员")),
        ),
    ),
)  # fmt: skip
_ARCH = {a.code: a for a in _ARCHETYPES}
_MASS_ORGS = {
    "youth_league": "共青团扬州市委", "trade_unions": "扬州市总工会",
    "womens_federation": "扬州市妇女联合会", "youth_federation": "扬州市青年联合会",
    "taiwan_federation": "扬州市台湾同胞联谊会", "overseas_chinese": "扬州市归国华侨联合会",
    "science_association": "扬州市科学技术协会",
}  # fmt: skip
_MASS_TITLES = ("主席", "副主席", "书记", "副书记", "秘书长", "部长")

# What people talk about, by archetype: visit/meeting summaries and the concerns raised.
_THEMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "official": (
        ("通报市政协近期重点工作，听取对专题协商议题的意见", "交流提案办理协商情况",
         "座谈交流民生实事项目推进情况"),
        ("老旧小区加装电梯推进慢", "古城区停车难问题突出", "城乡公交线路覆盖不足"),
    ),
    "education": (
        ("交流高校人才引进政策落实情况", "听取对教育资源均衡配置的意见建议",
         "走访学校，了解“双减”政策落实情况", "交流职业教育校企合作情况"),
        ("乡村教师待遇偏低、流失严重", "职业教育校企合作缺乏政策支持", "中小学课后服务经费不足",
         "高校科研成果在扬转化率不高"),
    ),
    "medicine": (
        ("了解基层医疗卫生服务情况", "座谈交流公立医院改革情况", "走访医院，听取对分级诊疗的建议"),
        ("基层医疗机构人才短缺", "医保结算周期长，医院资金压力大", "社区卫生服务中心设备老化",
         "家庭医生签约服务落实不到位"),
    ),
    "science": (
        ("交流科技成果转化情况", "走访研究所，了解重点实验室建设情况", "座谈交流产学研合作"),
        ("科技型中小企业研发费用加计扣除落实难", "高层次人才住房保障不足", "中试基地建设滞后"),
    ),
    "culture": (
        ("交流古城保护与文化传承情况", "走访了解非遗传承保护情况", "听取对运河文化带建设的建议"),
        ("非遗传承人后继乏人", "古城保护与开发矛盾突出", "扬州评话演出场地不足",
         "基层公共文化设施利用率低"),
    ),
    "private_economy": (
        ("走访了解企业复工情况，反映用地审批慢的问题", "座谈交流企业融资情况",
         "了解企业用工情况和技术改造计划", "走访企业，宣传惠企政策", "交流企业转型升级思路"),
        ("企业用地审批周期长", "中小企业融资难、融资贵", "招工难，技术工人短缺",
         "电价、物流成本偏高", "政府项目账款拖欠", "涉企检查过多过频"),
    ),
    "new_stratum": (
        ("交流新的社会阶层人士参与社会治理情况", "座谈了解律师行业发展情况",
         "听取对营商环境的意见建议", "交流网络新媒体从业人员思想动态"),
        ("律师参与信访化解缺少渠道", "新媒体从业人员职称评定无通道",
         "社会组织购买服务资金拨付慢", "自由职业者社保缴纳不便"),
    ),
    "religious": (
        ("走访宗教活动场所，了解安全管理情况", "节前走访慰问宗教界人士",
         "交流宗教中国化实践情况"),
        ("宗教活动场所周边停车难", "古建筑修缮资金不足", "宗教活动场所消防设施需改造"),
    ),
    "ethnic": (
        ("走访慰问少数民族界人士", "交流民族团结进步创建情况"),
        ("清真食品供应点偏少", "少数民族流动人口服务管理需加强"),
    ),
    "hk_macao": (
        ("通报市政协全会精神，听取港澳委员关于招商引资的建议", "交流港澳青年来扬创业情况",
         "走访港资企业，了解经营情况"),
        ("港资企业跨境资金结算不便", "港澳居民子女入学手续繁琐", "港澳青年创业扶持政策不明确"),
    ),
    "mass_org": (
        ("交流群团组织参与协商情况", "座谈了解青年就业创业情况", "听取对妇女儿童权益保障的建议"),
        ("灵活就业人员权益保障不足", "托育服务供给不足", "青年人才公寓房源紧张"),
    ),
    "agriculture": (
        ("走访合作社，了解秋粮收购情况", "交流高标准农田建设情况", "了解高邮湖渔民转产安置情况"),
        ("高标准农田建设资金缺口大", "农产品冷链物流设施不足", "高邮湖生态补偿机制不健全",
         "农村宅基地管理政策不清"),
    ),
}  # fmt: skip
_AGENCIES = {
    "official": "扬州市住房和城乡建设局", "education": "扬州市教育局",
    "medicine": "扬州市卫生健康委员会", "science": "扬州市科学技术局",
    "culture": "扬州市文化广电和旅游局", "private_economy": "扬州市工业和信息化局",
    "new_stratum": "扬州市司法局", "religious": "扬州市民族宗教事务局",
    "ethnic": "扬州市民族宗教事务局", "hk_macao": "扬州市商务局",
    "mass_org": "扬州市人力资源和社会保障局", "agriculture": "扬州市农业农村局",
}  # fmt: skip
_ANSWERS = (
    "已列入今年重点工作计划，将于年内出台具体措施",
    "已会同相关部门现场协调，问题已基本解决",
    "已纳入明年财政预算，分步实施",
    "相关政策文件正在起草，已征求委员意见",
    "已召开专题协调会，明确了责任单位和时间节点",
)
_CALL_TOPICS = (
    "电话沟通参加专题协商会事宜", "电话问候，了解近况", "电话通知参加界别活动周",
    "电话征求对年度协商计划的意见", "电话了解提案撰写进展", "电话沟通委员视察安排",
)  # fmt: skip
_NOTES = (
    "收到委员书面意见：关于古城区停车难问题的建议", "委员来信反映小区物业管理问题",
    "收到社情民意信息一篇，已报送", "委员通过微信反映营商环境问题，已记录转办",
)  # fmt: skip
_MEMBER_NOTES = (
    "2022年换届新任委员", "届中增补", "连任三届委员", "市工商联会员企业", "由区委统战部推荐",
    "曾获全国劳动模范称号", "扬州市道德模范",
)  # fmt: skip
_CONTACT_NOTES = ("市工商联会员企业", "由区委统战部推荐", "曾参加市政协专题调研", "联谊会会员")
_ABROAD = (
    "香港特别行政区九龙尖沙咀广东道", "香港特别行政区湾仔港湾道", "澳门特别行政区新口岸友谊大马路",
)  # fmt: skip
_OCCASIONS = ("春节前走访慰问", "县区视察途中走访", "中秋节前走访", "专题调研", "日常联系")
_DOCUMENTS = ("市政协全会报告", "市政府工作报告", "市委全会精神", "年度协商计划")
_CANCEL_REASONS = (
    "与市政协常委会会议时间冲突，另行安排", "对方临时出差", "因天气原因改期",
)  # fmt: skip

# How the interactions are spread over the core's kinds.
_KIND_WEIGHTS = {"call": 40, "meeting": 45, "note": 15}


def _theme(arch: str) -> str:
    return arch if arch in _THEMES else "official"


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class _P:
    """What the generator remembers of a person it wrote."""

    id: uuid.UUID
    name: str
    region: str | None
    arch: str
    member: bool
    party: str | None
    employer: str | None
    categories: tuple[str, ...]
    committees: tuple[str, ...]


@dataclass(slots=True)
class _A:
    """What the generator remembers of an account it created."""

    id: uuid.UUID
    group: str  # chair | party_group | committee | admin | staff | county
    obj: Account
    region: str | None = None
    committee: str | None = None


@dataclass
class _KindPlan:
    spec: KindSpec
    make_data: Callable[[random.Random, str, list[str]], dict[str, Any]]
    validated: int = 0
    has_concerns: bool = False


class _Generator:
    """One run of :func:`generate`: all state, one random generator."""

    def __init__(
        self,
        unit: Unit,
        *,
        seed: int,
        today: date,
        progress: Callable[[int, int], None] | None,
    ) -> None:
        self.unit = unit
        self.session = unit.session
        self.rng = random.Random(seed)
        self.today = today
        self.tz: ZoneInfo = unit.config.tz
        self.progress = progress
        self.done = 0
        self.total = 0
        vocab = unit.config.vocab
        self.regions = vocab["regions"].codes()
        self.region_zh = {t.code: t.zh for t in vocab["regions"]}
        self.parties = set(vocab["parties"].codes())
        self.sectors = set(vocab["sectors"].codes())
        self.committees = vocab["committees"].codes()
        self.committee_zh = {t.code: t.zh for t in vocab["committees"]}
        self.categories = set(unit.app.categories.codes())
        self.city = "city" if "city" in self.regions else None
        self.people: list[_P] = []
        self.accounts: list[_A] = []
        self.mobiles: set[str] = set()
        self.org_people: list[int] = []
        self.leader_people: list[int] = []
        self.assigned: dict[uuid.UUID, set[int]] = {}
        self.follow_rows: list[dict[str, Any]] = []
        self.organisation_ids: list[uuid.UUID] = []
        # Region weights: the municipal level and the urban districts hold most people.
        base = {"city": 30, "guangling": 14, "hanjiang": 16, "jiangdu": 12}
        self.region_weights = [float(base.get(code, 8)) for code in self.regions]
        self.surnames, self.surname_cw = _cumulative(_SURNAMES)
        self.minorities, self.minority_cw = _cumulative(_MINORITIES)

    # -- helpers -------------------------------------------------------------------

    def uid(self) -> uuid.UUID:
        # uuid.UUID(int=bits, version=4), with the bit twiddling done in one step.
        return uuid.UUID(int=(self.rng.getrandbits(128) & _UUID_CLEAR) | _UUID_V4)

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.tz)

    def pick(self, seq: Sequence[Any]) -> Any:
        return seq[int(self.rng.random() * len(seq))]

    def tick(self, rows: int) -> None:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)

    def insert(self, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), BATCH):
            # A Core INSERT of the table: one executemany per batch, no ORM bookkeeping.
            table = model.__table__  # type: ignore[attr-defined]
            self.session.execute(insert(table), rows[start : start + BATCH])

    def code(self, code: str | None, known: set[str]) -> str | None:
        return code if code in known else None

    # -- the run -------------------------------------------------------------------

    def run(self, *, contacts: int, interactions: int) -> None:
        self.total = contacts + interactions
        # History reaches back a year; a very large sample is spread over more years
        # (an office does not log a million contacts in one).
        self.span_days = min(3650, max(365, round(365 * interactions / 50_000)))
        self.epoch = self.at(self.today - timedelta(days=self.span_days + 30), 9)
        self.now = self.at(self.today, 8)
        leaders = self._people(contacts)
        self._organisations()
        self._accounts(leaders)
        joint = self._assignments()
        defer = interactions >= _DEFER_INDEXES_FROM
        with _deferred_indexes(self.unit, _DEFERRED_INDEX_TABLES if defer else ()):
            self._interactions(interactions, joint)
            self._write_follow_ups()

    def context(self) -> DemoContext:
        """What the plugins' ``populate_demo`` is handed: this run's generator, today,
        and who exists, by category and by role."""
        by_category: dict[str, list[uuid.UUID]] = {}
        for p in self.people:
            for c in p.categories:
                by_category.setdefault(c, []).append(p.id)
        by_role: dict[str, list[Account]] = {}
        for a in self.accounts:
            by_role.setdefault(a.obj.role.value, []).append(a.obj)
            if a.obj.chair_meeting:
                by_role.setdefault("chair_meeting", []).append(a.obj)
        return DemoContext(
            rng=self.rng,
            today=self.today,
            people_by_category=by_category,
            members=[p.id for p in self.people if p.member],
            accounts_by_role=by_role,
            organisations=list(self.organisation_ids),
        )

    # -- people --------------------------------------------------------------------

    def name(self, gender: Gender, faith: str | None = None) -> str:
        rng = self.rng
        if faith == "buddhist":
            return "释" + self.pick(_DHARMA_FIRST) + self.pick(_DHARMA_SECOND)
        surname = self.surnames[bisect.bisect(self.surname_cw, rng.random() * self.surname_cw[-1])]
        pools = _GIVEN[gender]
        r = rng.random()
        if r < 0.18:
            given = self.pick(pools["single"])
        elif r < 0.55:
            given = self.pick(pools["whole"])
        else:
            given = self.pick(pools["first"]) + self.pick(pools["second"])
            if given[0] == given[1] and rng.random() < 0.7:
                given = self.pick(pools["whole"])
        return surname + given

    def mobile(self) -> str:
        while True:
            number = self.pick(_MOBILE_PREFIXES) + f"{self.rng.randrange(100_000_000):08d}"
            if number not in self.mobiles:
                self.mobiles.add(number)
                return number

    def address(self, region: str | None) -> str:
        rng = self.rng
        code = region if region in _ROADS else "city"
        district = {"city": self.pick(("广陵区", "邗江区"))}.get(code, self.region_zh.get(code, ""))
        if region and region not in _ROADS:
            district = self.region_zh.get(region, "")
        road = self.pick(_ROADS[code])
        prefix = "江苏省扬州市" if rng.random() < 0.3 else "扬州市"
        if code in ("baoying", "yizheng", "gaoyou"):
            prefix = "江苏省" if rng.random() < 0.5 else ""
            prefix += "扬州市" if prefix else ""
        base = f"{prefix}{district}{road}{rng.randint(1, 399)}号"
        if rng.random() < 0.6:
            base += (
                f"{self.pick(_ESTATES)}{rng.randint(1, 32)}幢{rng.randint(1, 3)}单元"
                f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
            )
        return base

    def employer(self, job: _Job, region: str | None) -> str:
        template = self.pick(job.employers)
        if "{" not in template:
            return template
        code = region if region in _ROADS else "city"
        values = {
            "place": _PLACE.get(code, "扬州"),
            "trade": self.pick(_TRADE),
            "industry": self.pick(_INDUSTRY),
            "school": self.pick(_SCHOOLS[code]),
            "hospital": self.pick(_HOSPITALS[code]),
            "yzu": self.pick(_YZU_SCHOOLS),
            "govt": self.pick(_GOVT),
        }
        return template.format(**values)

    def party_of(self, arch: _Arch, member: bool) -> str:
        weights = []
        for code, w in arch.parties:
            if not member:  # outside contacts are mostly outside the parties
                w *= {"ccp": 0.3, "masses": 3.0, "non_affiliated": 1.5}.get(code, 0.4)
            weights.append(w)
        return self.rng.choices([c for c, _ in arch.parties], weights)[0]

    def sector_of(self, arch: _Arch, party: str) -> str | None:
        rng = self.rng
        if party in _DEMOCRATIC and party in self.sectors and rng.random() < 0.55:
            return party  # a 民盟 member sits in the 民盟 sector
        if party == "non_affiliated" and rng.random() < 0.4:
            return self.code("non_affiliated", self.sectors)
        if party == "ccp" and rng.random() < 0.25:
            return self.code("ccp", self.sectors)
        choices = [s for s in arch.sectors if s in self.sectors]
        return self.pick(choices) if choices else None

    def categories_of(
        self, arch: _Arch, *, member: bool, party: str | None, sector: str | None, han: bool
    ) -> tuple[str, ...]:
        cats: list[str] = []
        if member and party != "ccp":
            cats.append("non_party_member")
        if party in _DEMOCRATIC:
            cats.append("democratic_party")
        if party == "non_affiliated":
            cats.append("non_affiliated")
        if arch.intellectual and party != "ccp":
            cats.append("non_party_intellectual")
        if arch.code == "private_economy" or (
            arch.code in ("agriculture", "ethnic")
            and sector in ("economy", "agriculture", None)
            and not member
            and self.rng.random() < 0.5
        ):
            cats.append("private_economy")
        if arch.code == "new_stratum":
            cats.append("new_social_stratum")
        if arch.code == "religious":
            cats.append("religious")
        if not han:
            cats.append("ethnic_minority")
        if arch.code == "hk_macao":
            cats.append("hk_macao_member" if member else "hk_macao_taiwan_overseas")
        if sector in ("taiwan_federation", "overseas_chinese"):
            cats.append("hk_macao_taiwan_overseas")
        if sector == "federation_ic" or (
            member and arch.code == "private_economy" and self.rng.random() < 0.4
        ):
            cats.append("federation_ic")
        return tuple(sorted(c for c in dict.fromkeys(cats) if c in self.categories))

    def person(
        self,
        *,
        member: bool,
        standing: bool = False,
        arch: _Arch | None = None,
        party: str | None = None,
        sector: str | None = None,
        region: str | None = None,
        employer: str | None = None,
        title: str | None = None,
        committees: tuple[str, ...] | None = None,
        born: tuple[int, int] = (1955, 1990),
        notes: str | None = None,
    ) -> tuple[dict[str, Any], _P]:
        """One person row (not yet written) and what the generator keeps of it."""
        rng = self.rng
        if arch is None:
            weights = [a.member_weight if member else a.outside_weight for a in _ARCHETYPES]
            arch = rng.choices(_ARCHETYPES, weights)[0]
        job = self.pick(arch.jobs) if arch.jobs else None
        faith = job.faith if job else None
        gender = Gender.male if rng.random() < (0.62 if member else 0.55) else Gender.female
        if faith in ("buddhist", "islam", "catholic"):
            gender = Gender.male
        name = pinyin.normalize_name(self.name(gender, faith))
        full, initials = pinyin.name_pinyin(name)
        if region is None:
            region = rng.choices(self.regions, self.region_weights)[0]
            if arch.code == "hk_macao":
                region = self.city or region
        if party is None:
            party = self.party_of(arch, member)
        party = self.code(party, self.parties)
        if sector is None and member:
            sector = self.sector_of(arch, party or "masses")
            if arch.code == "mass_org" or sector in _MASS_ORGS:
                sector = sector if sector in _MASS_ORGS else self.pick(tuple(_MASS_ORGS))
        sector = self.code(sector, self.sectors)
        if employer is None:
            if arch.code == "mass_org":
                employer = _MASS_ORGS.get(sector or "") or self.pick(tuple(_MASS_ORGS.values()))
                title = title or self.pick(_MASS_TITLES)
            elif job is not None:
                employer = self.employer(job, region)
                title = title or self.pick(job.titles)
        if faith == "islam" or arch.code == "ethnic":
            ethnicity = "回族" if faith == "islam" or rng.random() < 0.4 else self.minority()
        elif rng.random() < 0.965:
            ethnicity = "汉族"
        else:
            ethnicity = self.minority()
        lo, hi = born
        birth_year = rng.randint(lo, hi)
        mobile = self.mobile() if rng.random() < 0.99 else None
        phones = []
        if rng.random() < 0.2:
            phones.append(f"05148{rng.randrange(10_000_000):07d}")
        email = None
        if rng.random() < (0.4 if member else 0.25):
            domain = (
                "yzu.edu.cn"
                if employer and employer.startswith("扬州大学")
                else self.pick(("163.com", "qq.com", "126.com", "sina.com", "139.com"))
            )
            email = f"{full}{birth_year % 100:02d}@{domain}"
        if committees is None:
            committees = ()
            if member and self.committees:
                own = [c for c in arch.committees if c in self.committee_zh]
                first = (
                    self.pick(own) if own and rng.random() < 0.75 else self.pick(self.committees)
                )
                committees = (first,)
                if rng.random() < 0.2:
                    second = self.pick(self.committees)
                    if second != first:
                        committees = (first, second)
        if notes is None and rng.random() < (0.1 if member else 0.03):
            notes = self.pick(_MEMBER_NOTES if member else _CONTACT_NOTES)
        status = PersonStatus.active
        if not member:  # a few outside contacts have left, or passed away
            r = rng.random()
            if r < 0.012:
                status = PersonStatus.inactive if r < 0.01 else PersonStatus.deceased
        membership = (
            Membership.standing if standing else Membership.member if member else Membership.none
        )
        pid = self.uid()
        address = self.address(region)
        if arch.code == "hk_macao" and rng.random() < 0.5:
            address = self.pick(_ABROAD) + f"{rng.randint(1, 200)}号"
        cats = self.categories_of(
            arch, member=member, party=party, sector=sector, han=ethnicity == "汉族"
        )
        row = {
            "id": pid,
            "created_at": self.epoch,
            "updated_at": self.epoch,
            "version": 1,
            "name": name,
            "name_pinyin": full,
            "name_initials": initials,
            "gender": gender,
            "birth_year": birth_year,
            "birth_month": rng.randint(1, 12),
            "ethnicity": ethnicity,
            "party": party,
            "sector": sector,
            "region": region,
            "employer": employer,
            "title": title,
            "mobile": mobile,
            "phones": phones,
            "phone_digits": " ".join(p for p in [mobile, *phones] if p),
            "email": email,
            "address": address,
            "membership": membership,
            "status": status,
            "notes": notes,
            "extra": {},
            "organisation_id": None,
            "merged_into_id": None,
        }
        keep = _P(pid, name, region, arch.code, member, party, employer, cats, committees)
        return row, keep

    def minority(self) -> str:
        return self.minorities[
            bisect.bisect(self.minority_cw, self.rng.random() * self.minority_cw[-1])
        ]

    def _people(self, contacts: int) -> dict[str, list[int]]:
        """Write every person; return the indexes of the leaders' own person rows."""
        n_members = min(MEMBERS, max(40, round(contacts * 0.225)))
        n_standing = max(8, round(n_members * 0.1))
        rows: list[dict[str, Any]] = []
        leaders: dict[str, list[int]] = {"chair": [], "committee": []}
        official = _ARCH["official"]
        party_heads: dict[str, int] = {}  # a vice-chair from a party heads its committee
        for i, position in enumerate(_CHAIR_POSITIONS):
            party = "ccp" if position != "副主席" else _VICE_CHAIR_PARTIES[i - 1]
            party = self.code(party, self.parties) or "ccp"
            notes = f"{_PARTY_ZH[party]}扬州市委主委" if party in _DEMOCRATIC else None
            row, keep = self.person(
                member=True, standing=True, arch=official, party=party,
                sector=party if party in self.sectors else None, region="city",
                employer="政协扬州市委员会", title=position, born=(1962, 1972), notes=notes,
            )  # fmt: skip
            if party in _DEMOCRATIC:
                party_heads[party] = len(self.people)
            leaders["chair"].append(len(self.people))
            self._keep(rows, row, keep)
        for code in self.committees:
            row, keep = self.person(
                member=True, standing=True, arch=official, party="ccp", region="city",
                employer="政协扬州市委员会", title=f"{self.committee_zh[code]}主任",
                committees=(code,), born=(1962, 1975),
            )  # fmt: skip
            leaders["committee"].append(len(self.people))
            self._keep(rows, row, keep)
        # The organisations' contact persons (standing members): two per organisation.
        for party in _DEMOCRATIC:
            for title in ("主委", "专职副主委"):
                if title == "主委" and party in party_heads:
                    self.org_people.append(party_heads[party])
                    continue
                p = self.code(party, self.parties)
                row, keep = self.person(
                    member=True, standing=True, arch=self.pick(_ARCHETYPES[1:5]), party=p,
                    sector=p if p in self.sectors else None, region="city",
                    employer=f"{_PARTY_ZH[party]}扬州市委员会", title=title,
                )  # fmt: skip
                self.org_people.append(len(self.people))
                self._keep(rows, row, keep)
        for title in ("副主席", "秘书长"):
            row, keep = self.person(
                member=True, standing=True, arch=_ARCH["private_economy"],
                sector="federation_ic", region="city", employer="扬州市工商业联合会", title=title,
            )  # fmt: skip
            self.org_people.append(len(self.people))
            self._keep(rows, row, keep)
        standing_left = max(0, n_standing - len(self.people))
        while len(self.people) < n_members:
            row, keep = self.person(member=True, standing=standing_left > 0, born=(1958, 1985))
            standing_left -= 1
            self._keep(rows, row, keep)
        while len(self.people) < contacts:
            row, keep = self.person(member=False)
            self._keep(rows, row, keep)
            if len(rows) >= BATCH:
                self._flush_people(rows)
        self._flush_people(rows)
        self.leader_people = leaders["chair"] + leaders["committee"]
        return leaders

    def _keep(self, rows: list[dict[str, Any]], row: dict[str, Any], keep: _P) -> None:
        rows.append(row)
        self.people.append(keep)

    def _flush_people(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        first = len(self.people) - len(rows)
        self.insert(Person, rows)
        links = self.people[first:]
        cats = [{"person_id": p.id, "category": c} for p in links for c in p.categories]
        comms = [{"person_id": p.id, "committee": c} for p in links for c in p.committees]
        if cats:
            self.insert(PersonCategory, cats)
        if comms:
            self.insert(PersonCommittee, comms)
        self.tick(len(rows))
        rows.clear()

    # -- organisations -------------------------------------------------------------

    def _organisations(self) -> None:
        orgs: list[dict[str, Any]] = []
        contacts: list[dict[str, Any]] = []
        specs: list[tuple[str, str, str | None]] = [
            (f"{_PARTY_ZH[p]}扬州市委员会", "democratic_party", p) for p in _DEMOCRATIC
        ]
        specs.append(("扬州市工商业联合会", "federation_ic", None))
        pairs = [self.org_people[i : i + 2] for i in range(0, len(self.org_people), 2)]
        for (name, kind, party), pair in zip(specs, pairs, strict=True):
            oid = self.uid()
            orgs.append(
                {
                    "id": oid, "created_at": self.epoch, "updated_at": self.epoch, "version": 1,
                    "name": name, "kind": kind, "party": self.code(party, self.parties),
                    "region": self.city,
                    "address": self.address("city"),
                    "phone": f"0514-87{self.rng.randrange(1_000_000):06d}", "notes": None,
                }
            )  # fmt: skip
            for index, role in zip(pair, ("主要负责人", "联络人"), strict=True):
                pid = self.people[index].id
                contacts.append({"organisation_id": oid, "person_id": pid, "role": role})
        self.organisation_ids = [o["id"] for o in orgs]
        self.insert(Organisation, orgs)
        self.insert(OrganisationContact, contacts)
        for link in contacts:
            self.session.execute(
                update(Person)
                .where(Person.id == link["person_id"])
                .values(organisation_id=link["organisation_id"])
            )

    # -- accounts ------------------------------------------------------------------

    def _accounts(self, leaders: dict[str, list[int]]) -> None:
        taken = set(self.session.scalars(select(col(Account.username))))

        def username(name: str) -> str:
            base = pinyin.name_pinyin(name)[0] or "user"
            for n in itertools.count(1):
                candidate = base if n == 1 else f"{base}{n}"
                if candidate not in taken:
                    taken.add(candidate)
                    return candidate
            raise AssertionError("unreachable")

        def make(group: str, *, person: int | None = None, name: str | None = None,
                 uname: str | None = None, **values: Any) -> None:  # fmt: skip
            display = name or (self.people[person].name if person is not None else "")
            account = create_account(
                self.unit,
                username=uname or username(display),
                display_name=display,
                person_id=self.people[person].id if person is not None else None,
                **values,
            )
            self.accounts.append(
                _A(account.id, group, account, values.get("region_scope"), values.get("committee"))
            )

        def someone() -> str:
            gender = Gender.male if self.rng.random() < 0.5 else Gender.female
            return self.name(gender)

        with _seeded_ids(Account, self.uid):
            for index, position in zip(leaders["chair"], _CHAIR_POSITIONS, strict=True):
                make("chair", person=index, role=Role.leader, chair_meeting=True,
                     position=position)  # fmt: skip
            for position in ("党组成员、副秘书长", "党组成员、办公室主任", "党组成员"):
                make("party_group", name=someone(), role=Role.leader, position=position)
            for index, code in zip(leaders["committee"], self.committees, strict=True):
                make("committee", person=index, role=Role.leader, committee=code,
                     position=f"{self.committee_zh[code]}主任")  # fmt: skip
            make("admin", name="市政协办公室", uname=_free("office", taken), role=Role.admin,
                 position="办公室")  # fmt: skip
            make("admin", name="系统管理员", uname=_free("admin", taken), role=Role.admin,
                 position="信息中心")  # fmt: skip
            for position in ("办公室综合处处长", "委员联络处副处长", "委员联络处科员"):
                make("staff", name=someone(), role=Role.staff, position=position)
            for code in self.regions:
                if code != "city":
                    make("county", name=someone(), role=Role.county_staff, region_scope=code,
                         position=f"{self.region_zh[code]}政协办公室")  # fmt: skip
        ids = [a.id for a in self.accounts]
        self.session.execute(
            update(Account)
            .where(col(Account.id).in_(ids))
            .values(created_at=self.epoch, updated_at=self.epoch)
        )
        self.by_group: dict[str, list[_A]] = {}
        for a in self.accounts:
            self.by_group.setdefault(a.group, []).append(a)

    # -- assignments ---------------------------------------------------------------

    def _assignments(self) -> list[tuple[_A, int, str, int | None, date]]:
        """Write the chair-meeting members' liaison assignments (seed 二.9); return, for
        each, the keeper, the contact, its category, how many days ago they last met
        (None: never) and since when."""
        rng = self.rng
        liaison = ("non_party_intellectual", "private_economy", "new_social_stratum")
        wanted: list[str] = [c for c in liaison if c in self.categories]
        chairs = self.by_group.get("chair", [])
        pool: dict[str, list[int]] = {c: [] for c in wanted}
        for i, p in enumerate(self.people):
            if p.member or i in self.org_people:
                continue
            for c in p.categories:
                if c in pool:
                    pool[c].append(i)
        for c in wanted:  # members too, if outside contacts run short
            if len(pool[c]) < len(chairs):
                pool[c] += [i for i, p in enumerate(self.people) if p.member and c in p.categories]
        # One or two chair-meeting members are missing one category: the gap to show.
        gaps = {id(a): self.pick(wanted) for a in rng.sample(chairs, min(len(chairs), 2))}
        if rng.random() < 0.5 and len(gaps) > 1:
            gaps.pop(next(iter(gaps)))
        plan: list[tuple[_A, int, str]] = []
        used: set[int] = set()
        for keeper in chairs:
            for category in wanted:
                if gaps.get(id(keeper)) == category:
                    continue
                free = [i for i in pool[category] if i not in used]
                if not free:
                    continue
                index = self.pick(free[:500])
                used.add(index)
                plan.append((keeper, index, category))
        n = len(plan)
        states = ["never"] + ["overdue"] * max(3, n // 4) + ["recent"] * max(3, n // 4)
        states += ["ok"] * max(0, n - len(states))
        rng.shuffle(states)
        rows: list[dict[str, Any]] = []
        result: list[tuple[_A, int, str, int | None, date]] = []
        for (keeper, index, category), state in zip(plan, states, strict=False):
            term = self.unit.app.categories.get(category)
            max_days = int(term.extra.get("max_days", 90)) if term else 90
            last: int | None
            if state == "recent":
                last = rng.randint(1, 14)
            elif state == "ok":
                last = rng.randint(15, max(15, max_days - 5))
            elif state == "overdue":
                last = rng.randint(max_days + 10, max_days + 120)
            else:
                last = None
            start = self.today - timedelta(days=rng.randint(max(370, (last or 0) + 60), 730))
            if last is None:
                start = self.today - timedelta(days=rng.randint(max_days + 20, max_days + 100))
            rows.append(
                {
                    "id": self.uid(), "created_at": self.at(start, 9),
                    "updated_at": self.at(start, 9), "version": 1, "keeper_id": keeper.id,
                    "contact_id": self.people[index].id,
                    "category": category, "ideal_days": None, "max_days": None, "start_on": start,
                    "end_on": None, "snoozed_until": None, "snooze_reason": None, "notes": None,
                }
            )  # fmt: skip
            self.assigned.setdefault(keeper.id, set()).add(index)
            result.append((keeper, index, category, last, start))
        self.insert(Assignment, rows)
        return result

    # -- interactions --------------------------------------------------------------

    def _kind_plans(self) -> dict[str, _KindPlan]:
        # The core's own kinds; a plugin's kinds come with the plugin's populate_demo.
        # Only if the core kinds are switched off are other kinds used, with whatever
        # of their fields the demo knows how to fill.
        plans: dict[str, _KindPlan] = {}
        for code in sorted(self.unit.kinds):
            spec = self.unit.kinds[code]
            maker = _data_maker(spec)
            if maker is not None:
                fields = spec.schema.model_fields if spec.schema is not None else {}
                plans[code] = _KindPlan(spec, maker, has_concerns="concerns" in fields)
        core = {c: p for c, p in plans.items() if c in _KIND_WEIGHTS}
        return core or plans

    def _interactions(self, count: int, joint: list[tuple[_A, int, str, int | None, date]]) -> None:
        rng = self.rng
        plans = self._kind_plans()
        if not plans:
            return
        codes = list(plans)
        kind_cw = list(itertools.accumulate(_KIND_WEIGHTS.get(c, 1) for c in codes))
        # The office's leaders are not sampled as contacts.
        skip = set(self.leader_people)
        members = [i for i, p in enumerate(self.people) if p.member and i not in skip]
        outside = [i for i, p in enumerate(self.people) if not p.member]
        by_region: dict[str | None, list[int]] = {}
        for i in outside:
            by_region.setdefault(self.people[i].region, []).append(i)
        groups = self.by_group
        county_of = {a.region: a for a in groups.get("county", [])}
        office = groups.get("staff", []) + groups.get("admin", [])
        leaders = groups.get("chair", []) + groups.get("committee", [])
        leaders += groups.get("party_group", [])
        everyone = self.accounts

        writer = _InteractionWriter(self)
        # The assignments' own history first: joint work at about the cadence, the last
        # time as many days ago as planned; most of those overdue have one on the calendar.
        joint_kinds = [c for c in ("meeting", "meeting", "call") if c in plans] or codes
        for keeper, index, _category, last, start in joint:
            if last is not None:
                days = [last]
                horizon = min((self.today - start).days, self.span_days)
                while days[-1] + 45 < horizon:
                    days.append(days[-1] + rng.randint(35, 80))
                for ago in days:
                    plan = plans[self.pick(joint_kinds)]
                    writer.add(plan, InteractionStatus.done, ago, [keeper], [index])
            if (last is None or last > 60) and rng.random() < 0.6:
                plan = plans[joint_kinds[0]]
                writer.add(plan, InteractionStatus.planned, -rng.randint(1, 14), [keeper], [index])
        future_share = 28 / (self.span_days + 28)
        for _ in range(max(0, count - writer.count)):
            code = codes[bisect.bisect(kind_cw, rng.random() * kind_cw[-1])]
            if rng.random() < future_share and code != "note":  # a note records the past
                ago = -rng.randint(1, 28)
                cancelled = rng.random() < 0.06
                status = InteractionStatus.cancelled if cancelled else InteractionStatus.planned
            else:
                ago = rng.randint(1, self.span_days)
                cancelled = rng.random() < 0.03 and code != "note"
                status = InteractionStatus.cancelled if cancelled else InteractionStatus.done
            # Members are contacted far more often than any one outside contact.
            first = self.pick(members) if members and rng.random() < 0.45 else self.pick(outside)
            people = [first]
            if code == "meeting" and rng.random() < 0.25:
                other = self.pick(by_region.get(self.people[first].region) or outside)
                if other != first:
                    people.append(other)
            # Who does the work: county staff in their county, the office calls and
            # writes, leaders meet.
            county = county_of.get(self.people[first].region)
            a = rng.random()
            if county is not None and a < 0.25:
                account = county
            elif code in ("call", "note"):
                account = self.pick(office or everyone) if a < 0.8 else self.pick(everyone)
            else:
                account = self.pick(leaders or everyone) if a < 0.7 else self.pick(everyone)
            accounts = [account]
            if code == "meeting" and office and rng.random() < 0.2:
                extra = self.pick(office)
                if extra is not account:
                    accounts.append(extra)
            # Never bring a keeper and an assigned contact together by chance: the
            # assignments' "last contact" is exactly what was planned above.
            for acc in accounts:
                mine = self.assigned.get(acc.id)
                if mine:
                    people = [i for i in people if i not in mine]
            while not people:
                other = self.pick(outside)
                if not any(other in self.assigned.get(acc.id, ()) for acc in accounts):
                    people = [other]
            writer.add(plans[code], status, ago, accounts, people)
        writer.flush()

    # -- follow-ups ----------------------------------------------------------------

    def raise_follow_up(
        self, interaction_id: uuid.UUID, person: int, host: _A, concern: str, raised: datetime
    ) -> None:
        """Remember a follow-up of ``concern`` (written at the end, in one go): due
        ``follow_up_days`` after it was raised, owned by whoever logged it or handed to
        the office; the older, the likelier answered and closed."""
        rng = self.rng
        raised_on = raised.astimezone(self.tz).date()
        age = (self.today - raised_on).days
        due = raised_on + timedelta(days=self.unit.config.follow_up_days)
        r = rng.random()
        if age < 20:
            status = FollowUpStatus.open if r < 0.6 else FollowUpStatus.in_progress
        elif age < 60:
            status = (FollowUpStatus.open, FollowUpStatus.in_progress, FollowUpStatus.answered,
                      FollowUpStatus.closed)[bisect.bisect((0.15, 0.5, 0.85), r)]  # fmt: skip
        else:
            status = (FollowUpStatus.closed, FollowUpStatus.answered, FollowUpStatus.open,
                      FollowUpStatus.in_progress)[bisect.bisect((0.7, 0.88, 0.95), r)]  # fmt: skip
        who = self.people[person]
        agency = _AGENCIES.get(_theme(who.arch), "扬州市人民政府办公室")
        answered = closed = None
        response = None
        if status in (FollowUpStatus.answered, FollowUpStatus.closed):
            answered = min(raised_on + timedelta(days=rng.randint(5, 40)), self.today)
            response = f"已转{agency}研究办理。{agency}答复：{self.pick(_ANSWERS)}。"
            if status is FollowUpStatus.closed:
                closed = min(answered + timedelta(days=rng.randint(1, 20)), self.today)
                response += "已向委员当面反馈，委员表示满意。"
        office = self.by_group.get("staff", [])
        owner = self.pick(office) if office and rng.random() < 0.4 else host
        last = closed or answered
        if who.member:
            detail = f"{who.name}委员反映：{concern}，建议有关部门研究解决。"
        else:
            detail = f"{who.name}反映：{concern}，希望得到重视。"
        self.follow_rows.append(
            {
                "id": self.uid(), "created_at": raised,
                "updated_at": max(raised, self.at(last, 10)) if last else raised,
                "version": 1, "interaction_id": interaction_id, "person_id": who.id,
                "title": concern, "detail": detail, "owner_id": owner.id, "due_on": due,
                "status": status, "response": response, "answered_on": answered,
                "closed_on": closed,
            }
        )  # fmt: skip

    def _write_follow_ups(self) -> None:
        rows = self.follow_rows
        # However small the sample, the dashboard has overdue open concerns to show.
        overdue = [
            r for r in rows
            if r["status"] in (FollowUpStatus.open, FollowUpStatus.in_progress)
            and r["due_on"] < self.today
        ]  # fmt: skip
        closed = [
            r for r in rows if r["status"] is FollowUpStatus.closed and r["due_on"] < self.today
        ]
        for r in closed[: max(0, 3 - len(overdue))]:
            r.update(status=FollowUpStatus.open, response=None, answered_on=None, closed_on=None,
                     updated_at=r["created_at"])  # fmt: skip
        self.insert(FollowUp, rows)


def _free(name: str, taken: set[str]) -> str:
    for n in itertools.count(1):
        candidate = name if n == 1 else f"{name}{n}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    raise AssertionError("unreachable")


def _cumulative(pairs: Sequence[tuple[str, float]]) -> tuple[list[str], list[float]]:
    return [p for p, _ in pairs], list(itertools.accumulate(w for _, w in pairs))


class _InteractionWriter:
    """Buffers interaction and participant rows and writes them in batches."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.rows: list[dict[str, Any]] = []
        self.parts: list[dict[str, Any]] = []
        self.count = 0

    def add(
        self,
        plan: _KindPlan,
        status: InteractionStatus,
        ago: int,
        accounts: list[_A],
        people: list[int],
    ) -> None:
        """One interaction ``ago`` days before today (negative: in the future)."""
        gen = self.gen
        rng = gen.rng
        spec = plan.spec
        day = gen.today - timedelta(days=ago)
        if day.weekday() >= 5 and rng.random() < 0.8:
            day -= timedelta(days=day.weekday() - 4)  # most work happens on weekdays
        hour = gen.pick((8, 9, 9, 10, 10, 14, 14, 15, 15, 16))
        start = gen.at(day, hour, gen.pick((0, 0, 15, 30, 30, 45)))
        duration = spec.default_duration_minutes
        if spec.code not in ("call", "note"):
            duration = max(15, duration + gen.pick((-15, 0, 0, 30, 60)))
        end = start + timedelta(minutes=duration)
        first = gen.people[people[0]]
        topics, concerns_pool = _THEMES[_theme(first.arch)]
        concerns: list[str] = []
        if spec.code == "call":
            summary = gen.pick(_CALL_TOPICS)
        elif spec.code == "note":
            summary = gen.pick(_NOTES)
        else:
            summary = gen.pick(topics)
            if plan.has_concerns and status is InteractionStatus.done and rng.random() < 0.15:
                concerns = rng.sample(concerns_pool, 1 if rng.random() < 0.7 else 2)
                summary += "，反映" + "、".join(concerns) + "的问题"
        data = plan.make_data(rng, summary, concerns)
        if plan.validated < 50:  # the first of each kind go through the kind's schema
            data = spec.validate_data(data, context={"unit": gen.unit})
            plan.validated += 1
        location = None
        if spec.code not in ("call", "note"):
            location = gen.pick(_MEETING_PLACES) if rng.random() < 0.6 else first.employer
        region = first.region if rng.random() < 0.7 else gen.city
        iid = gen.uid()
        cancelled = status is InteractionStatus.cancelled
        if status is InteractionStatus.done:
            created = end  # logged when it was over
        else:
            created = min(gen.now, start - timedelta(days=rng.randint(2, 20)))
        updated = created
        if cancelled:
            updated = max(created, min(gen.now, start - timedelta(days=1)))
        self.rows.append(
            {
                "id": iid, "created_at": created, "updated_at": updated, "version": 1,
                "kind": spec.code, "status": status, "start_at": start, "end_at": end,
                "all_day": False, "location": location, "region": region, "summary": summary,
                "notes": None, "data": data, "confidential": spec.confidential,
                "series_id": None, "created_by_id": accounts[0].id,
                "sequence": 1 if cancelled else 0,
                "cancel_reason": gen.pick(_CANCEL_REASONS) if cancelled else None,
            }
        )  # fmt: skip
        for acc in accounts:
            self.parts.append(
                {"id": gen.uid(), "interaction_id": iid, "person_id": None, "account_id": acc.id,
                 "role": spec.account_role, "rsvp": None, "attended": None}
            )  # fmt: skip
        for index in people:
            self.parts.append(
                {"id": gen.uid(), "interaction_id": iid, "person_id": gen.people[index].id,
                 "account_id": None, "role": spec.person_role, "rsvp": None, "attended": None}
            )  # fmt: skip
        for concern in concerns:  # as the service does: one follow-up per concern
            gen.raise_follow_up(iid, people[0], accounts[0], concern, end)
        self.count += 1
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        n = len(self.rows)
        self.gen.insert(Interaction, self.rows)
        self.gen.insert(InteractionParticipant, self.parts)
        self.rows.clear()
        self.parts.clear()
        self.gen.tick(n)


# ---------------------------------------------------------------------------------------
# Kind data
# ---------------------------------------------------------------------------------------


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(a) for a in typing.get_args(annotation))


def _data_maker(spec: KindSpec) -> Callable[[random.Random, str, list[str]], dict[str, Any]] | None:
    """A function making ``data`` for ``spec`` from fields whose meaning is known
    (topic, concerns, occasion, ...), or None if the kind has required fields the demo
    cannot fill. Checked against the kind's schema before it is used."""
    if spec.schema is None:
        return lambda _rng, _summary, _concerns: {}
    fillers: dict[str, Callable[[random.Random, str, list[str]], Any]] = {
        "topic": lambda _r, s, _c: s.split("，")[0],
        "topics": lambda _r, s, _c: s.split("，")[0],
        "concerns": lambda _r, _s, c: list(c),
        "occasion": lambda r, _s, _c: r.choice(_OCCASIONS),
        "documents": lambda r, _s, _c: r.choice(_DOCUMENTS),
        "agreed": lambda _r, _s, _c: "约定下次参加专题协商会",
        "outcome": lambda _r, _s, _c: "交流充分，达成共识",
    }
    known: dict[str, tuple[Callable[[random.Random, str, list[str]], Any], bool]] = {}
    for name, info in spec.schema.model_fields.items():
        if name in fillers:
            known[name] = (fillers[name], _is_list(info.annotation))
        elif info.is_required():
            return None
    order = list(spec.schema.model_fields)
    defaults: dict[str, Any] = {}

    def make(rng: random.Random, summary: str, concerns: list[str]) -> dict[str, Any]:
        # The data exactly as the kind's schema normalises it (defaults filled in, in
        # field order), so rows written without validation look like validated ones.
        data: dict[str, Any] = dict(defaults)
        for name, (fill, as_list) in known.items():
            value = fill(rng, summary, concerns)
            if as_list and not isinstance(value, list):
                value = [value]
            elif not as_list and isinstance(value, list):
                value = "；".join(value) or None
            if value:
                data[name] = value
        return {k: data[k] for k in order if k in data}

    probe = random.Random(0)
    try:
        sample = make(probe, "走访交流，了解情况", [])
        defaults.update((k, v) for k, v in spec.validate_data(sample).items() if k not in sample)
        for concerns in ([], ["企业用地审批周期长"]):
            made = make(probe, "走访交流，了解情况", concerns)
            if spec.validate_data(made) != made:
                raise ValidationError.one("data", made, "not in normal form")
    except ValidationError:
        try:
            empty = spec.validate_data({})
        except ValidationError:
            return None
        return lambda _rng, _summary, _concerns: dict(empty)
    return make
