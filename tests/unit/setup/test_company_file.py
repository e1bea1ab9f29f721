"""The company file: parsing, defaults, derived ids and problems reported by path."""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

import pytest
import yaml

from taboor.scheduling.hours import ALWAYS_CLOSED, parse_weekly_hours
from taboor.setup.loader import demo_company_yaml, load_company_file, parse_company_yaml
from taboor.setup.schema import CompanyFileError, CompanySpec, parse_company_file
from tests.support import company_file


def problems_of(raw: object) -> dict[str, str]:
    """path -> message of every problem; fails if two problems share a path."""
    with pytest.raises(CompanyFileError) as caught:
        parse_company_file(raw)
    problems = caught.value.problems
    paths = [problem.path for problem in problems]
    assert len(paths) == len(set(paths)), f"a path reported twice: {paths}"
    return {problem.path: problem.message for problem in problems}


def minimal(**branch: Any) -> dict[str, Any]:
    """A valid one-branch document; keyword arguments replace branch fields."""
    doc: dict[str, Any] = {
        "company": {"id": "cmp_test01", "name": "Test", "timezone": "Asia/Bahrain"},
        "branches": [
            {
                "id": "branch0001",
                "name": "Main",
                "groups": [
                    {
                        "id": "group00001",
                        "name": "Tellers",
                        "services": [
                            {"id": "service001", "name": "Withdrawal", "prefix": "W"},
                        ],
                    },
                ],
            }
        ],
    }
    doc["branches"][0].update(branch)
    return doc


# --- valid files -------------------------------------------------------------------------


def test_bundled_demo_parses_with_three_branches() -> None:
    """The demo company shipped in the package is a valid file with 3 branches."""
    spec = parse_company_yaml(demo_company_yaml())
    assert spec.id == "cmp_demo01"
    assert len(spec.branches) == 3
    assert len({branch.id for branch in spec.branches}) == 3
    seef = spec.branches[0]
    assert seef.id == "802b33af66"
    assert seef.name == {"en": "Seef Mall Branch", "ar": "فرع سيف مول"}
    assert [closure.day for closure in seef.closures] == [date(2026, 12, 16), date(2026, 12, 17)]


def test_bank_fixture_parses_every_field() -> None:
    """The bank fixture parses into the values it writes, defaults filled in."""
    spec = load_company_file(company_file("bank"))
    assert (spec.id, spec.name, spec.timezone, spec.default_locale) == (
        "cmp_bank01",
        "Test Bank",
        "Asia/Bahrain",
        "en",
    )
    zallaq, amwaj, london, old = spec.branches
    assert zallaq.location == (26.05, 50.49)
    assert zallaq.timezone == "Asia/Bahrain"  # inherited from the company
    assert london.timezone == "Europe/London"
    assert old.active is False
    assert amwaj.hours.days[0] == ((0, 1440),)
    assert [branch.position for branch in spec.branches] == [1, 2, 3, 4]
    assert zallaq.counters[0].service_ids == ("zwithdraw1", "zdeposit01")
    tellers = zallaq.groups[0]
    assert tellers.position == 2
    withdrawal, _, forex, loans = tellers.services
    assert (withdrawal.walk_in, withdrawal.walk_in_hours, withdrawal.avg_service_minutes) == (
        True,
        None,
        5,
    )
    assert forex.walk_in_hours == parse_weekly_hours(
        {"sun": ["09:00-10:00"], "mon": ["09:00-10:00"]}
    )
    assert loans.walk_in is False
    assert loans.appointment is not None
    assert (
        loans.appointment.prefix,
        loans.appointment.slot_minutes,
        loans.appointment.capacity,
        loans.appointment.horizon_days,
        loans.appointment.min_notice_minutes,
        loans.appointment.hours,
    ) == ("M", 30, 1, 14, 60, None)


def test_defaults_when_fields_are_left_out() -> None:
    """Omitted fields take the documented defaults."""
    doc = minimal()
    doc["branches"][0]["groups"][0]["services"][0]["appointment"] = {
        "prefix": "A",
        "slotMinutes": 15,
    }
    spec = parse_company_file(doc)
    assert spec.default_locale == "en"
    branch = spec.branches[0]
    assert (branch.active, branch.hours, branch.closures, branch.counters) == (
        True,
        ALWAYS_CLOSED,
        (),
        (),
    )
    assert (branch.address, branch.location) == (None, None)
    group = branch.groups[0]
    assert (group.position, group.active) == (1, True)
    service = group.services[0]
    assert (service.position, service.active, service.walk_in, service.avg_service_minutes) == (
        1,
        True,
        True,
        5,
    )
    assert service.appointment is not None
    assert (
        service.appointment.capacity,
        service.appointment.horizon_days,
        service.appointment.min_notice_minutes,
    ) == (1, 30, 0)


def test_plain_string_names_take_the_default_locale() -> None:
    """A plain-string name is a name in the company's default locale (en or ar)."""
    english = parse_company_file(minimal(address="Seef Road"))
    assert english.branches[0].name == {"en": "Main"}
    assert english.branches[0].address == {"en": "Seef Road"}
    assert english.branches[0].groups[0].services[0].name == {"en": "Withdrawal"}

    rival = load_company_file(company_file("rival"))
    assert rival.default_locale == "ar"
    assert rival.branches[0].name == {"ar": "فرع المنافس"}
    assert rival.branches[0].groups[0].name == {"ar": "الخدمات", "en": "Services"}


def test_closures_are_sorted_by_date() -> None:
    """Closures come back in date order, quoted or unquoted dates alike."""
    spec = parse_company_file(
        minimal(closures=[{"date": "2026-12-17"}, {"date": date(2026, 1, 1)}])
    )
    assert [closure.day for closure in spec.branches[0].closures] == [
        date(2026, 1, 1),
        date(2026, 12, 17),
    ]


# --- derived ids -------------------------------------------------------------------------

NO_IDS = """
company: {id: cmp_noids1, name: No Ids, timezone: Asia/Bahrain}
branches:
  - name: North
    groups:
      - name: Tellers
        services: [{name: Withdrawal, prefix: W}, {name: Deposit, prefix: D}]
      - name: Loans
        services: [{name: Withdrawal, prefix: X}]
    counters: [{name: Counter 1}, {name: Counter 2}]
  - name: South
    groups:
      - name: Tellers
        services: [{name: Withdrawal, prefix: W}]
"""


def all_ids(spec: CompanySpec) -> list[str]:
    ids: list[str] = []
    for branch in spec.branches:
        ids.append(branch.id)
        ids.extend(counter.id for counter in branch.counters)
        for group in branch.groups:
            ids.append(group.id)
            ids.extend(service.id for service in group.services)
    return ids


def test_derived_ids_are_stable_across_parses() -> None:
    """A file without ids names the same entities the same way every time."""
    first = all_ids(parse_company_yaml(NO_IDS))
    second = all_ids(parse_company_yaml(NO_IDS))
    assert first == second
    assert all(re.fullmatch(r"[a-z0-9]{10}", entity_id) for entity_id in first)


def test_derived_ids_are_distinct_per_name_and_parent() -> None:
    """Different names, and equal names under different parents, get different ids."""
    ids = all_ids(parse_company_yaml(NO_IDS))
    assert len(ids) == len(set(ids)) == 11


def test_renaming_changes_the_derived_id_but_nothing_else() -> None:
    """Only the renamed entity (and what derives from it) gets a new id."""
    before = parse_company_yaml(NO_IDS)
    after = parse_company_yaml(NO_IDS.replace("name: South", "name: Southern"))
    assert before.branches[0].id == after.branches[0].id
    assert before.branches[1].id != after.branches[1].id


def test_derived_ids_depend_on_the_company() -> None:
    """The same branch name in two companies is two different branches."""
    other = parse_company_yaml(NO_IDS.replace("cmp_noids1", "cmp_noids2"))
    assert parse_company_yaml(NO_IDS).branches[0].id != other.branches[0].id


def test_same_name_without_ids_is_a_problem() -> None:
    """Two unnamed-id siblings with one name collide, and the file says so."""
    doc = minimal()
    doc["branches"][0]["groups"].append({"name": "Same", "services": []})
    doc["branches"][0]["groups"].append({"name": "Same", "services": []})
    problems = problems_of(doc)
    assert problems == {
        "branches[0].groups[2]": (
            "has the same name as branches[0].groups[1]; give one of them an id"
        )
    }


# --- bad files ---------------------------------------------------------------------------

BROKEN_EXPECTED = {
    "company.id": "must be cmp_ and 6+ characters a-z, 0-9",
    "company.timezone": "unknown IANA time zone 'Mars/Olympus'",
    "company.colour": "unknown field",
    "branches[0].name.fr": "unsupported locale; use en or ar",
    "branches[0].hours.mon": "intervals overlap",
    "branches[0].closures[1].date": "2026-12-16 is listed twice",
    "branches[0].counters[0].services[1]": "'othersvc01' is not a service of this branch",
    "branches[0].groups[0].services[1].prefix": "must be 1 to 3 capital letters A-Z",
    "branches[0].groups[0].services[2].name": "is required",
    "branches[0].groups[0].services[3].appointment.prefix": "is required",
    "branches[0].groups[0].services[3].appointment.slotMinutes": "must be between 5 and 480",
    "branches[0].groups[0].services[3].appointment.capacity": "must be between 1 and 1000",
    "branches[0].groups[0].services[3].appointment.horizonDays": "must be between 1 and 366",
    "branches[0].groups[0].services[3].appointment.minNoticeMinutes": (
        "must be between 0 and 43200"
    ),
    "branches[0].groups[0].services[4].appointment": "must be a mapping",
    "branches[0].groups[1]": "must be a mapping",
    "branches[1].wifi": "unknown field",
    "branches[1].name": "needs a name in the default locale (en)",
    "branches[1].groups[0].id": "id brokengr01 is already used at branches[0].groups[0]",
    "branches[1].groups[0].services[1].id": (
        "id brokensv01 is already used at branches[0].groups[0].services[0]"
    ),
    "branches[2]": "must be a mapping",
}


def test_broken_file_reports_every_problem_by_path_in_one_error() -> None:
    """Every problem in broken.yaml is reported, at its exact path, and nothing else."""
    with pytest.raises(CompanyFileError) as caught:
        load_company_file(company_file("broken"))
    reported = {problem.path: problem.message for problem in caught.value.problems}
    assert reported == BROKEN_EXPECTED
    assert len(caught.value.problems) == len(BROKEN_EXPECTED)


def test_error_text_has_one_line_per_problem() -> None:
    """str(CompanyFileError) is 'path: message' lines, one per problem."""
    with pytest.raises(CompanyFileError) as caught:
        load_company_file(company_file("broken"))
    lines = str(caught.value).splitlines()
    assert lines == [f"{problem.path}: {problem.message}" for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (lambda d: d["company"].update(id="cmp_AB"), "company.id", "must be cmp_"),
        (lambda d: d["company"].update(timezone="Asia/Manama2"), "company.timezone", "unknown"),
        (lambda d: d["company"].update(defaultLocale="fr"), "company.defaultLocale", "en or ar"),
        (lambda d: d["company"].pop("name"), "company.name", "is required"),
        (lambda d: d.update(extra=1), "extra", "unknown field"),
        (lambda d: d.update(branches={"a": 1}), "branches", "must be a list"),
        (lambda d: d["branches"][0].update(id="Branch-1"), "branches[0].id", "10 characters"),
        (lambda d: d["branches"][0].update(timezone="Nowhere"), "branches[0].timezone", "unknown"),
        (lambda d: d["branches"][0].update(name={}), "branches[0].name", "must be a string"),
        (lambda d: d["branches"][0].update(name=7), "branches[0].name", "must be a string"),
        (lambda d: d["branches"][0].update(name={"en": ""}), "branches[0].name.en", "non-empty"),
        (lambda d: d["branches"][0].update(name="x" * 201), "branches[0].name", "too long"),
        (lambda d: d["branches"][0].update(active="yes"), "branches[0].active", "true or false"),
        (
            lambda d: d["branches"][0].update(location={"lat": 91, "lng": 0}),
            "branches[0].location.lat",
            "between -90 and 90",
        ),
        (
            lambda d: d["branches"][0].update(hours={"mon": ["9-5"]}),
            "branches[0].hours.mon[0]",
            "not an interval",
        ),
        (
            lambda d: d["branches"][0].update(hours="always"),
            "branches[0].hours",
            "must be a mapping",
        ),
        (
            lambda d: d["branches"][0].update(closures=[{"date": "2026-02-30"}]),
            "branches[0].closures[0].date",
            "must be a date",
        ),
        (
            lambda d: d["branches"][0]["groups"][0].update(position=True),
            "branches[0].groups[0].position",
            "integer",
        ),
        (
            lambda d: d["branches"][0]["groups"][0]["services"][0].update(avgServiceMinutes=0),
            "branches[0].groups[0].services[0].avgServiceMinutes",
            "between 1 and 480",
        ),
        (
            lambda d: d["branches"][0]["groups"][0]["services"][0].update(
                walkInHours={"sun": ["10:00-09:00"]}
            ),
            "branches[0].groups[0].services[0].walkInHours.sun[0]",
            "ends before it starts",
        ),
        (
            lambda d: d["branches"][0]["groups"][0]["services"][0].update(
                appointment={"prefix": "A", "slotMinutes": 15, "hours": {"xyz": []}}
            ),
            "branches[0].groups[0].services[0].appointment.hours.xyz",
            "unknown day",
        ),
        (
            lambda d: d["branches"][0]["groups"][0]["services"][0].update(
                appointment={"prefix": "ABCD", "slotMinutes": 15}
            ),
            "branches[0].groups[0].services[0].appointment.prefix",
            "1 to 3 capital letters",
        ),
        (
            lambda d: d["branches"][0].update(
                counters=[{"name": "C", "services": ["service001", "service001"]}]
            ),
            "branches[0].counters[0].services[1]",
            "listed twice",
        ),
    ],
)
def test_single_problem_is_reported_at_its_path(change: Any, path: str, message: str) -> None:
    """One broken field in a valid file yields exactly one problem, at that field."""
    doc = copy.deepcopy(minimal())
    change(doc)
    problems = problems_of(doc)
    assert list(problems) == [path]
    assert message in problems[path]


@pytest.mark.parametrize("document", [None, [], "company", 3])
def test_document_that_is_not_a_mapping(document: object) -> None:
    """A document that is not a mapping is one problem at the root."""
    assert problems_of(document) == {"": "must be a mapping"}


def test_document_without_company() -> None:
    """A document with branches but no company block says company is required."""
    assert problems_of({"branches": []}) == {"company": "is required"}


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("company: {id: x\nbranches: [\n", "line 2, column 9"),
        ("company: x\n  branches: y\n", "line 2, column 11"),
        ("company:\n\t- x\n", "line 2, column 1"),
    ],
)
def test_invalid_yaml_reports_line_and_column(text: str, where: str) -> None:
    """A YAML syntax error is one problem whose path is the line and column."""
    with pytest.raises(CompanyFileError) as caught:
        parse_company_yaml(text)
    [problem] = caught.value.problems
    assert problem.path == where
    assert problem.message.startswith("not valid YAML:")


def test_yaml_and_mapping_forms_agree() -> None:
    """parse_company_yaml is parse_company_file of the loaded document."""
    text = company_file("bank").read_text(encoding="utf-8")
    assert parse_company_yaml(text) == parse_company_file(yaml.safe_load(text))


# --- once bugs, now fixed: kept so they stay fixed ----------------------------------------


def test_counter_service_that_is_a_list_is_a_problem_not_a_crash() -> None:
    """A counter's services entry that is a list is reported, not raised as TypeError."""
    problems = problems_of(minimal(counters=[{"name": "C", "services": [["service001"]]}]))
    assert list(problems) == ["branches[0].counters[0].services[0]"]


def test_counter_naming_a_broken_service_reports_only_the_service() -> None:
    """A bad prefix on a service is one problem, not also a bogus counter problem."""
    doc = minimal(counters=[{"name": "C", "services": ["service001"]}])
    doc["branches"][0]["groups"][0]["services"][0]["prefix"] = "w"
    assert list(problems_of(doc)) == ["branches[0].groups[0].services[0].prefix"]


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("location", [26.0, 50.0], "branches[0].location"),
        ("closures", ["2026-12-16"], "branches[0].closures[0]"),
    ],
)
def test_non_mapping_is_one_problem(field: str, value: object, path: str) -> None:
    """A list where a mapping belongs is reported once, at its own path."""
    assert problems_of(minimal(**{field: value})) == {path: "must be a mapping"}


@pytest.mark.parametrize("value", [False, [], "", 0])
def test_falsy_non_mapping_hours_are_reported(value: object) -> None:
    """hours: false (or [], '', 0) is not a mapping and is reported as such."""
    assert list(problems_of(minimal(hours=value))) == ["branches[0].hours"]


def test_closure_date_with_a_time_is_a_problem() -> None:
    """date: 2026-12-16 10:00:00 (a YAML timestamp) is not a date."""
    text = (
        "company: {id: cmp_test01, name: T, timezone: Asia/Bahrain}\n"
        "branches: [{id: branch0001, name: B, closures: [{date: 2026-12-16 10:00:00}]}]\n"
    )
    with pytest.raises(CompanyFileError) as caught:
        parse_company_yaml(text)
    assert [p.path for p in caught.value.problems] == ["branches[0].closures[0].date"]
