"""People: names, phones, addresses, employers, parties and sectors that agree."""

from __future__ import annotations

import bisect
from typing import Any

from crm_core import pinyin, search_index
from crm_core.demo.sizes import BATCH, MEMBERS
from crm_core.demo.state import _State
from crm_core.demo.tables import (
    _ABROAD,
    _ARCH,
    _ARCHETYPES,
    _CHAIR_POSITIONS,
    _CONTACT_NOTES,
    _DEMOCRATIC,
    _DHARMA_FIRST,
    _DHARMA_SECOND,
    _ESTATES,
    _GIVEN,
    _GOVT,
    _HOSPITALS,
    _INDUSTRY,
    _MASS_ORGS,
    _MASS_TITLES,
    _MEMBER_NOTES,
    _MOBILE_PREFIXES,
    _P,
    _PARTY_ZH,
    _PLACE,
    _ROADS,
    _SCHOOLS,
    _TRADE,
    _VICE_CHAIR_PARTIES,
    _YZU_SCHOOLS,
    _Arch,
    _Job,
)
from crm_core.models import (
    Gender,
    Membership,
    Person,
    PersonCategory,
    PersonCommittee,
    PersonStatus,
)
from crm_core.search_models import PersonGram

# -- people --------------------------------------------------------------------


def name(gen: _State, gender: Gender, faith: str | None = None) -> str:
    rng = gen.rng
    if faith == "buddhist":
        return "释" + gen.pick(_DHARMA_FIRST) + gen.pick(_DHARMA_SECOND)
    surname = gen.surnames[bisect.bisect(gen.surname_cw, rng.random() * gen.surname_cw[-1])]
    pools = _GIVEN[gender]
    r = rng.random()
    if r < 0.18:
        given = gen.pick(pools["single"])
    elif r < 0.55:
        given = gen.pick(pools["whole"])
    else:
        given = gen.pick(pools["first"]) + gen.pick(pools["second"])
        if given[0] == given[1] and rng.random() < 0.7:
            given = gen.pick(pools["whole"])
    return surname + given


def mobile(gen: _State) -> str:
    while True:
        number = gen.pick(_MOBILE_PREFIXES) + f"{gen.rng.randrange(100_000_000):08d}"
        if number not in gen.mobiles:
            gen.mobiles.add(number)
            return number


def address(gen: _State, region: str | None) -> str:
    rng = gen.rng
    code = region if region in _ROADS else "city"
    district = {"city": gen.pick(("广陵区", "邗江区"))}.get(code, gen.region_zh.get(code, ""))
    if region and region not in _ROADS:
        district = gen.region_zh.get(region, "")
    road = gen.pick(_ROADS[code])
    prefix = "江苏省扬州市" if rng.random() < 0.3 else "扬州市"
    if code in ("baoying", "yizheng", "gaoyou"):
        prefix = "江苏省" if rng.random() < 0.5 else ""
        prefix += "扬州市" if prefix else ""
    base = f"{prefix}{district}{road}{rng.randint(1, 399)}号"
    if rng.random() < 0.6:
        base += (
            f"{gen.pick(_ESTATES)}{rng.randint(1, 32)}幢{rng.randint(1, 3)}单元"
            f"{rng.randint(1, 18)}0{rng.randint(1, 4)}室"
        )
    return base


def employer(gen: _State, job: _Job, region: str | None) -> str:
    template = gen.pick(job.employers)
    if "{" not in template:
        return template
    code = region if region in _ROADS else "city"
    values = {
        "place": _PLACE.get(code, "扬州"),
        "trade": gen.pick(_TRADE),
        "industry": gen.pick(_INDUSTRY),
        "school": gen.pick(_SCHOOLS[code]),
        "hospital": gen.pick(_HOSPITALS[code]),
        "yzu": gen.pick(_YZU_SCHOOLS),
        "govt": gen.pick(_GOVT),
    }
    return template.format(**values)


def party_of(gen: _State, arch: _Arch, member: bool) -> str:
    weights = []
    for code, w in arch.parties:
        if not member:  # outside contacts are mostly outside the parties
            w *= {"ccp": 0.3, "masses": 3.0, "non_affiliated": 1.5}.get(code, 0.4)
        weights.append(w)
    return gen.rng.choices([c for c, _ in arch.parties], weights)[0]


def sector_of(gen: _State, arch: _Arch, party: str) -> str | None:
    rng = gen.rng
    if party in _DEMOCRATIC and party in gen.sectors and rng.random() < 0.55:
        return party  # a 民盟 member sits in the 民盟 sector
    if party == "non_affiliated" and rng.random() < 0.4:
        return gen.code("non_affiliated", gen.sectors)
    if party == "ccp" and rng.random() < 0.25:
        return gen.code("ccp", gen.sectors)
    choices = [s for s in arch.sectors if s in gen.sectors]
    return gen.pick(choices) if choices else None


def categories_of(
    gen: _State, arch: _Arch, *, member: bool, party: str | None, sector: str | None, han: bool
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
        and gen.rng.random() < 0.5
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
        member and arch.code == "private_economy" and gen.rng.random() < 0.4
    ):
        cats.append("federation_ic")
    return tuple(sorted(c for c in dict.fromkeys(cats) if c in gen.categories))


# person() has locals named like these helpers: it calls them by these names.
_name_of, _mobile_of, _address_of, _employer_of = name, mobile, address, employer


def person(
    gen: _State,
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
    rng = gen.rng
    if arch is None:
        weights = [a.member_weight if member else a.outside_weight for a in _ARCHETYPES]
        arch = rng.choices(_ARCHETYPES, weights)[0]
    job = gen.pick(arch.jobs) if arch.jobs else None
    faith = job.faith if job else None
    gender = Gender.male if rng.random() < (0.62 if member else 0.55) else Gender.female
    if faith in ("buddhist", "islam", "catholic"):
        gender = Gender.male
    name = pinyin.normalize_name(_name_of(gen, gender, faith))
    full, initials = pinyin.name_pinyin(name)
    if region is None:
        region = rng.choices(gen.regions, gen.region_weights)[0]
        if arch.code == "hk_macao":
            region = gen.city or region
    if party is None:
        party = party_of(gen, arch, member)
    party = gen.code(party, gen.parties)
    if sector is None and member:
        sector = sector_of(gen, arch, party or "masses")
        if arch.code == "mass_org" or sector in _MASS_ORGS:
            sector = sector if sector in _MASS_ORGS else gen.pick(tuple(_MASS_ORGS))
    sector = gen.code(sector, gen.sectors)
    if employer is None:
        if arch.code == "mass_org":
            employer = _MASS_ORGS.get(sector or "") or gen.pick(tuple(_MASS_ORGS.values()))
            title = title or gen.pick(_MASS_TITLES)
        elif job is not None:
            employer = _employer_of(gen, job, region)
            title = title or gen.pick(job.titles)
    if faith == "islam" or arch.code == "ethnic":
        ethnicity = "回族" if faith == "islam" or rng.random() < 0.4 else minority(gen)
    elif rng.random() < 0.965:
        ethnicity = "汉族"
    else:
        ethnicity = minority(gen)
    lo, hi = born
    birth_year = rng.randint(lo, hi)
    # Stored as every write path stores them (E.164, crm_core/phones.py), and searched by
    # their national digits (phones.search_digits: the same for mainland numbers).
    national = _mobile_of(gen) if rng.random() < 0.99 else None
    landlines = []
    if rng.random() < 0.2:
        landlines.append(f"05148{rng.randrange(10_000_000):07d}")
    mobile = None if national is None else "+86" + national
    phones = ["+86" + number[1:] for number in landlines]
    email = None
    if rng.random() < (0.4 if member else 0.25):
        domain = (
            "yzu.edu.cn"
            if employer and employer.startswith("扬州大学")
            else gen.pick(("163.com", "qq.com", "126.com", "sina.com", "139.com"))
        )
        email = f"{full}{birth_year % 100:02d}@{domain}"
    if committees is None:
        committees = ()
        if member and gen.committees:
            own = [c for c in arch.committees if c in gen.committee_zh]
            first = gen.pick(own) if own and rng.random() < 0.75 else gen.pick(gen.committees)
            committees = (first,)
            if rng.random() < 0.2:
                second = gen.pick(gen.committees)
                if second != first:
                    committees = (first, second)
    if notes is None and rng.random() < (0.1 if member else 0.03):
        notes = gen.pick(_MEMBER_NOTES if member else _CONTACT_NOTES)
    status = PersonStatus.active
    if not member:  # a few outside contacts have left, or passed away
        r = rng.random()
        if r < 0.012:
            status = PersonStatus.inactive if r < 0.01 else PersonStatus.deceased
    membership = (
        Membership.standing if standing else Membership.member if member else Membership.none
    )
    pid = gen.uid()
    address = _address_of(gen, region)
    if arch.code == "hk_macao" and rng.random() < 0.5:
        address = gen.pick(_ABROAD) + f"{rng.randint(1, 200)}号"
    cats = categories_of(
        gen, arch, member=member, party=party, sector=sector, han=ethnicity == "汉族"
    )
    row = {
        "id": pid,
        "created_at": gen.epoch,
        "updated_at": gen.epoch,
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
        "phone_digits": " ".join(p for p in [national, *landlines] if p),
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


def minority(gen: _State) -> str:
    return gen.minorities[bisect.bisect(gen.minority_cw, gen.rng.random() * gen.minority_cw[-1])]


def _people(gen: _State, contacts: int) -> dict[str, list[int]]:
    """Write every person; return the indexes of the leaders' own person rows."""
    n_members = min(MEMBERS, max(40, round(contacts * 0.225)))
    n_standing = max(8, round(n_members * 0.1))
    rows: list[dict[str, Any]] = []
    leaders: dict[str, list[int]] = {"chair": [], "committee": []}
    official = _ARCH["official"]
    party_heads: dict[str, int] = {}  # a vice-chair from a party heads its committee
    for i, position in enumerate(_CHAIR_POSITIONS):
        party = "ccp" if position != "副主席" else _VICE_CHAIR_PARTIES[i - 1]
        party = gen.code(party, gen.parties) or "ccp"
        notes = f"{_PARTY_ZH[party]}扬州市委主委" if party in _DEMOCRATIC else None
        row, keep = person(gen,
            member=True, standing=True, arch=official, party=party,
            sector=party if party in gen.sectors else None, region="city",
            employer="政协扬州市委员会", title=position, born=(1962, 1972), notes=notes,
        )  # fmt: skip
        if party in _DEMOCRATIC:
            party_heads[party] = len(gen.people)
        leaders["chair"].append(len(gen.people))
        _keep(gen, rows, row, keep)
    for code in gen.committees:
        row, keep = person(gen,
            member=True, standing=True, arch=official, party="ccp", region="city",
            employer="政协扬州市委员会", title=f"{gen.committee_zh[code]}主任",
            committees=(code,), born=(1962, 1975),
        )  # fmt: skip
        leaders["committee"].append(len(gen.people))
        _keep(gen, rows, row, keep)
    # The organisations' contact persons (standing members): two per organisation.
    for party in _DEMOCRATIC:
        for title in ("主委", "专职副主委"):
            if title == "主委" and party in party_heads:
                gen.org_people.append(party_heads[party])
                continue
            p = gen.code(party, gen.parties)
            row, keep = person(gen,
                member=True, standing=True, arch=gen.pick(_ARCHETYPES[1:5]), party=p,
                sector=p if p in gen.sectors else None, region="city",
                employer=f"{_PARTY_ZH[party]}扬州市委员会", title=title,
            )  # fmt: skip
            gen.org_people.append(len(gen.people))
            _keep(gen, rows, row, keep)
    for title in ("副主席", "秘书长"):
        row, keep = person(gen,
            member=True, standing=True, arch=_ARCH["private_economy"],
            sector="federation_ic", region="city", employer="扬州市工商业联合会", title=title,
        )  # fmt: skip
        gen.org_people.append(len(gen.people))
        _keep(gen, rows, row, keep)
    standing_left = max(0, n_standing - len(gen.people))
    while len(gen.people) < n_members:
        row, keep = person(gen, member=True, standing=standing_left > 0, born=(1958, 1985))
        standing_left -= 1
        _keep(gen, rows, row, keep)
    while len(gen.people) < contacts:
        row, keep = person(gen, member=False)
        _keep(gen, rows, row, keep)
        if len(rows) >= BATCH:
            _flush_people(gen, rows)
    _flush_people(gen, rows)
    gen.leader_people = leaders["chair"] + leaders["committee"]
    return leaders


def _keep(gen: _State, rows: list[dict[str, Any]], row: dict[str, Any], keep: _P) -> None:
    rows.append(row)
    gen.people.append(keep)


def _flush_people(gen: _State, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    first = len(gen.people) - len(rows)
    gen.insert(Person, rows)
    gen.insert(PersonGram, list(search_index.gram_rows(rows)))  # the substring index
    links = gen.people[first:]
    cats = [{"person_id": p.id, "category": c} for p in links for c in p.categories]
    comms = [{"person_id": p.id, "committee": c} for p in links for c in p.committees]
    if cats:
        gen.insert(PersonCategory, cats)
    if comms:
        gen.insert(PersonCommittee, comms)
    gen.tick(len(rows))
    rows.clear()
