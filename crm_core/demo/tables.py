"""The demo's data tables: name pools, places, employers, archetypes, themes of work."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm_core.kinds import KindSpec
from crm_core.models import (
    Account,
    Gender,
)

if TYPE_CHECKING:
    pass


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
