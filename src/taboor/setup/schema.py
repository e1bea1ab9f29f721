"""The company file: its typed form and its validation.

``parse_company_file`` turns a loaded YAML document into a ``CompanySpec`` or raises
``CompanyFileError`` listing every problem by path. It is pure (no database); checks
that need the database (ids owned by another company) happen in ``apply``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import available_timezones

from taboor.db.tables import DEFAULT_NO_SHOW_GRACE_MINUTES
from taboor.i18n import SUPPORTED_LOCALES
from taboor.scheduling.hours import HoursError, WeeklyHours, parse_weekly_hours
from taboor.setup.reader import MappingReader, Problem, Problems, child

COMPANY_ID = re.compile(r"cmp_[a-z0-9]{6,36}")
ENTITY_ID = re.compile(r"[a-z0-9]{10}")
PREFIX = re.compile(r"[A-Z]{1,3}")
ID_HINT = "must be 10 characters a-z or 0-9"
PREFIX_HINT = "must be 1 to 3 capital letters A-Z"
# A browser origin as browsers send it: scheme://host[:port], nothing after. Any scheme
# (https, http for local development, capacitor:// and the like for app web views).
ORIGIN = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
ORIGIN_HINT = "must be an origin like https://app.example.com (scheme://host[:port], no path)"
DEFAULT_PORTS = {"http": "80", "https": "443"}
MAX_CORS_ORIGINS = 50
MAX_ORIGIN_LENGTH = 300
MAX_RATE_LIMIT = 100_000

LocalizedText = dict[str, str]


class CompanyFileError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class AppointmentSpec:
    prefix: str
    slot_minutes: int
    capacity: int
    horizon_days: int
    min_notice_minutes: int
    hours: WeeklyHours | None
    # Minutes after the appointment time before an unchecked-in ticket is a no-show.
    grace_minutes: int = DEFAULT_NO_SHOW_GRACE_MINUTES


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    id: str
    name: LocalizedText
    position: int
    active: bool
    prefix: str
    walk_in: bool
    walk_in_hours: WeeklyHours | None
    avg_service_minutes: int
    appointment: AppointmentSpec | None


@dataclass(frozen=True, slots=True)
class GroupSpec:
    id: str
    name: LocalizedText
    position: int
    active: bool
    services: tuple[ServiceSpec, ...]


@dataclass(frozen=True, slots=True)
class CounterSpec:
    id: str
    name: LocalizedText
    position: int
    service_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClosureSpec:
    day: date
    reason: LocalizedText | None


@dataclass(frozen=True, slots=True)
class BranchSpec:
    id: str
    name: LocalizedText
    timezone: str
    address: LocalizedText | None
    location: tuple[float, float] | None
    active: bool
    position: int
    hours: WeeklyHours
    closures: tuple[ClosureSpec, ...]
    counters: tuple[CounterSpec, ...]
    groups: tuple[GroupSpec, ...]


@dataclass(frozen=True, slots=True)
class CompanySpec:
    id: str
    name: str
    timezone: str
    default_locale: str
    branches: tuple[BranchSpec, ...]
    # `limits`: External API requests per minute per API key and per client address;
    # None = unlimited.
    rate_limit_per_key: int | None = None
    rate_limit_per_address: int | None = None
    # `cors.origins`: the browser origins the company's apps are served from, normalized
    # as browsers send them (lower case, no default port), each once, in file order.
    cors_origins: tuple[str, ...] = ()


def derived_id(*parts: str) -> str:
    """A stable 10-character id for an entity the file gives no id: the same file
    applied twice must name the same rows (design.md §4: applying twice changes nothing)."""
    digest = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest()[:8], "big")
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    chars = []
    for _ in range(10):
        digest, index = divmod(digest, 36)
        chars.append(alphabet[index])
    return "".join(chars)


class _FileParser:
    def __init__(self) -> None:
        self.problems = Problems()
        self.default_locale = "en"
        self.seen_ids: dict[str, str] = {}
        # Every service id of the branch being read, even of services with problems of
        # their own, so a counter naming one is not reported as naming a stranger.
        self.branch_service_ids: set[str] = set()

    # -- small pieces -------------------------------------------------------------
    def localized(self, raw: object, path: str, *, max_length: int = 200) -> LocalizedText | None:
        """``{en: …, ar: …}`` or a plain string meaning the company's default locale."""
        if isinstance(raw, str) and raw.strip():
            if len(raw) > max_length:
                self._too_long(path)
                return None
            return {self.default_locale: raw}
        if not isinstance(raw, Mapping) or not raw:
            self.problems.add(path, "must be a string or a mapping of locale to text (en, ar)")
            return None
        text: LocalizedText = {}
        for locale, value in raw.items():
            if locale not in SUPPORTED_LOCALES:
                self.problems.add(child(path, str(locale)), "unsupported locale; use en or ar")
            elif not isinstance(value, str) or not value.strip():
                self.problems.add(child(path, str(locale)), "must be a non-empty string")
            elif len(value) > max_length:
                self._too_long(child(path, str(locale)))
            else:
                text[str(locale)] = value
        if text and self.default_locale not in text:
            self.problems.add(path, f"needs a name in the default locale ({self.default_locale})")
        return text or None

    def _too_long(self, path: str) -> None:
        self.problems.add(path, "is too long")

    def hours(self, raw: object, path: str) -> WeeklyHours | None:
        try:
            return parse_weekly_hours(raw)
        except HoursError as error:
            for sub_path, message in error.problems:
                self.problems.add(f"{path}.{sub_path}" if sub_path else path, message)
            return None

    def entity_id(self, reader: MappingReader, *natural_key: str) -> str:
        given = reader.text("id", pattern=ENTITY_ID, hint=ID_HINT)
        entity_id = given or derived_id(*natural_key)
        first_path = self.seen_ids.get(entity_id)
        if first_path is not None:
            self.problems.add(
                reader.path_of("id") if given else reader.path,
                (
                    f"id {entity_id} is already used at {first_path}"
                    if given
                    else f"has the same name as {first_path}; give one of them an id"
                ),
            )
        else:
            self.seen_ids[entity_id] = reader.path
        return entity_id

    def name_of(self, reader: MappingReader) -> LocalizedText | None:
        if not reader.has("name"):
            reader.missing("name")
            return None
        return self.localized(reader.get("name"), reader.path_of("name"))

    # -- the document ---------------------------------------------------------------
    def company(self, raw: object) -> CompanySpec | None:
        top = MappingReader(
            raw, "", self.problems, frozenset({"company", "branches", "limits", "cors"})
        )
        if not top.ok:
            return None
        if not top.has("company"):
            top.missing("company")
            return None
        company = MappingReader(
            top.get("company"),
            "company",
            self.problems,
            frozenset({"id", "name", "timezone", "defaultLocale"}),
        )
        company_id = company.text(
            "id", required=True, pattern=COMPANY_ID, hint="must be cmp_ and 6+ characters a-z, 0-9"
        )
        name = company.text("name", required=True)
        timezone = self.timezone(company, required=True)
        locale = company.text("defaultLocale") or "en"
        if locale not in SUPPORTED_LOCALES:
            self.problems.add(company.path_of("defaultLocale"), "must be en or ar")
        else:
            self.default_locale = locale
        branches = tuple(
            branch
            for index, raw_branch in enumerate(top.sequence("branches"))
            if (
                branch := self.branch(
                    raw_branch, child("branches", index), company_id or "", timezone, index
                )
            )
        )
        per_key, per_address = self.limits(top)
        origins = self.cors_origins(top)
        if company_id is None or name is None or timezone is None:
            return None
        return CompanySpec(
            company_id,
            name,
            timezone,
            self.default_locale,
            branches,
            rate_limit_per_key=per_key,
            rate_limit_per_address=per_address,
            cors_origins=origins,
        )

    def limits(self, top: MappingReader) -> tuple[int | None, int | None]:
        """``limits: {perKeyPerMinute, perAddressPerMinute}``; absent = unlimited."""
        if not top.has("limits"):
            return None, None
        limits = MappingReader(
            top.get("limits"),
            "limits",
            self.problems,
            frozenset({"perKeyPerMinute", "perAddressPerMinute"}),
        )
        if not limits.ok:
            return None, None

        def per_minute(name: str) -> int | None:
            if not limits.has(name):
                return None
            return limits.integer(name, minimum=1, maximum=MAX_RATE_LIMIT)

        return per_minute("perKeyPerMinute"), per_minute("perAddressPerMinute")

    def cors_origins(self, top: MappingReader) -> tuple[str, ...]:
        """``cors: {origins: [...]}``: each an origin, at most ``MAX_CORS_ORIGINS``."""
        if not top.has("cors"):
            return ()
        cors = MappingReader(top.get("cors"), "cors", self.problems, frozenset({"origins"}))
        if not cors.ok:
            return ()
        raw_origins = cors.sequence("origins")
        if len(raw_origins) > MAX_CORS_ORIGINS:
            self.problems.add(cors.path_of("origins"), f"at most {MAX_CORS_ORIGINS} origins")
            return ()
        origins: dict[str, str] = {}
        for index, raw in enumerate(raw_origins):
            path = child(cors.path_of("origins"), index)
            origin = _origin(raw)
            if isinstance(origin, _OriginProblem):
                self.problems.add(path, origin.message)
            elif origin in origins:
                self.problems.add(path, f"{origin} is already listed at {origins[origin]}")
            else:
                origins[origin] = path
        return tuple(origins)

    def timezone(self, reader: MappingReader, *, required: bool) -> str | None:
        zone = reader.text("timezone", required=required, max_length=64)
        if zone is not None and zone not in _zones():
            self.problems.add(reader.path_of("timezone"), f"unknown IANA time zone {zone!r}")
            return None
        return zone

    def branch(
        self, raw: object, path: str, company_id: str, company_zone: str | None, index: int
    ) -> BranchSpec | None:
        reader = MappingReader(raw, path, self.problems, _BRANCH_FIELDS)
        if not reader.ok:
            return None
        name = self.name_of(reader)
        branch_id = self.entity_id(reader, company_id, "branch", _key(name, self.default_locale))
        zone = self.timezone(reader, required=False) or company_zone
        address = (
            self.localized(reader.get("address"), reader.path_of("address"), max_length=500)
            if reader.has("address")
            else None
        )
        location = self.location(reader) if reader.has("location") else None
        hours = self.hours(
            reader.get("hours") if reader.has("hours") else {}, reader.path_of("hours")
        )
        closures = self.closures(reader)
        groups = tuple(
            group
            for group_index, raw_group in enumerate(reader.sequence("groups"))
            if (
                group := self.group(
                    raw_group, child(reader.path_of("groups"), group_index), branch_id, group_index
                )
            )
        )
        branch_services = self.branch_service_ids
        self.branch_service_ids = set()
        counters = tuple(
            counter
            for counter_index, raw_counter in enumerate(reader.sequence("counters"))
            if (
                counter := self.counter(
                    raw_counter,
                    child(reader.path_of("counters"), counter_index),
                    branch_id,
                    branch_services,
                    counter_index,
                )
            )
        )
        active = reader.boolean("active", default=True)
        if name is None or zone is None or hours is None:
            return None
        return BranchSpec(
            branch_id,
            name,
            zone,
            address,
            location,
            active,
            index + 1,
            hours,
            closures,
            counters,
            groups,
        )

    def location(self, reader: MappingReader) -> tuple[float, float] | None:
        location = MappingReader(
            reader.get("location"),
            reader.path_of("location"),
            self.problems,
            frozenset({"lat", "lng"}),
        )
        if not location.ok:
            return None
        lat = location.number("lat", minimum=-90, maximum=90)
        lng = location.number("lng", minimum=-180, maximum=180)
        return (lat, lng) if lat is not None and lng is not None else None

    def closures(self, reader: MappingReader) -> tuple[ClosureSpec, ...]:
        closures: dict[date, ClosureSpec] = {}
        for index, raw in enumerate(reader.sequence("closures")):
            item = MappingReader(
                raw,
                child(reader.path_of("closures"), index),
                self.problems,
                frozenset({"date", "reason"}),
            )
            if not item.ok:
                continue
            day = _as_date(item.get("date"))
            if day is None:
                self.problems.add(item.path_of("date"), "must be a date like 2026-12-16")
                continue
            if day in closures:
                self.problems.add(item.path_of("date"), f"{day} is listed twice")
                continue
            reason = (
                self.localized(item.get("reason"), item.path_of("reason"), max_length=500)
                if item.has("reason")
                else None
            )
            closures[day] = ClosureSpec(day, reason)
        return tuple(sorted(closures.values(), key=lambda closure: closure.day))

    def group(self, raw: object, path: str, branch_id: str, index: int) -> GroupSpec | None:
        reader = MappingReader(raw, path, self.problems, _GROUP_FIELDS)
        if not reader.ok:
            return None
        name = self.name_of(reader)
        group_id = self.entity_id(reader, branch_id, "group", _key(name, self.default_locale))
        position = reader.integer("position", minimum=0, maximum=10_000, default=index + 1)
        active = reader.boolean("active", default=True)
        services = tuple(
            service
            for service_index, raw_service in enumerate(reader.sequence("services"))
            if (
                service := self.service(
                    raw_service,
                    child(reader.path_of("services"), service_index),
                    group_id,
                    service_index,
                )
            )
        )
        if name is None or position is None:
            return None
        return GroupSpec(group_id, name, position, active, services)

    def service(self, raw: object, path: str, group_id: str, index: int) -> ServiceSpec | None:
        reader = MappingReader(raw, path, self.problems, _SERVICE_FIELDS)
        if not reader.ok:
            return None
        name = self.name_of(reader)
        service_id = self.entity_id(reader, group_id, "service", _key(name, self.default_locale))
        self.branch_service_ids.add(service_id)
        position = reader.integer("position", minimum=0, maximum=10_000, default=index + 1)
        prefix = reader.text("prefix", required=True, pattern=PREFIX, hint=PREFIX_HINT)
        walk_in = reader.boolean("walkIn", default=True)
        walk_in_hours = (
            self.hours(reader.get("walkInHours"), reader.path_of("walkInHours"))
            if reader.has("walkInHours")
            else None
        )
        average = reader.integer("avgServiceMinutes", minimum=1, maximum=480, default=5)
        appointment = (
            self.appointment(reader.get("appointment"), reader.path_of("appointment"))
            if reader.has("appointment")
            else None
        )
        active = reader.boolean("active", default=True)
        if name is None or position is None or prefix is None or average is None:
            return None
        if reader.has("appointment") and appointment is None:
            return None
        return ServiceSpec(
            service_id,
            name,
            position,
            active,
            prefix,
            walk_in,
            walk_in_hours,
            average,
            appointment,
        )

    def appointment(self, raw: object, path: str) -> AppointmentSpec | None:
        reader = MappingReader(raw, path, self.problems, _APPOINTMENT_FIELDS)
        if not reader.ok:
            return None
        prefix = reader.text("prefix", required=True, pattern=PREFIX, hint=PREFIX_HINT)
        slot_minutes = reader.integer("slotMinutes", minimum=5, maximum=480)
        capacity = reader.integer("capacity", minimum=1, maximum=1000, default=1)
        horizon = reader.integer("horizonDays", minimum=1, maximum=366, default=30)
        notice = reader.integer("minNoticeMinutes", minimum=0, maximum=43_200, default=0)
        grace = reader.integer(
            "graceMinutes", minimum=0, maximum=1440, default=DEFAULT_NO_SHOW_GRACE_MINUTES
        )
        hours = (
            self.hours(reader.get("hours"), reader.path_of("hours"))
            if reader.has("hours")
            else None
        )
        if (
            prefix is None
            or slot_minutes is None
            or capacity is None
            or horizon is None
            or notice is None
            or grace is None
            or (reader.has("hours") and hours is None)
        ):
            return None
        return AppointmentSpec(prefix, slot_minutes, capacity, horizon, notice, hours, grace)

    def counter(
        self, raw: object, path: str, branch_id: str, branch_services: set[str], index: int
    ) -> CounterSpec | None:
        reader = MappingReader(raw, path, self.problems, frozenset({"id", "name", "services"}))
        if not reader.ok:
            return None
        name = self.name_of(reader)
        counter_id = self.entity_id(reader, branch_id, "counter", _key(name, self.default_locale))
        service_ids: list[str] = []
        for service_index, service_id in enumerate(reader.sequence("services")):
            item_path = child(reader.path_of("services"), service_index)
            if not isinstance(service_id, str):
                self.problems.add(item_path, "must be a service id")
            elif service_id not in branch_services:
                self.problems.add(item_path, f"{service_id!r} is not a service of this branch")
            elif service_id in service_ids:
                self.problems.add(item_path, f"{service_id} is listed twice")
            else:
                service_ids.append(service_id)
        if name is None:
            return None
        return CounterSpec(counter_id, name, index + 1, tuple(service_ids))


_BRANCH_FIELDS = frozenset(
    {
        "id",
        "name",
        "timezone",
        "address",
        "location",
        "hours",
        "closures",
        "counters",
        "groups",
        "active",
    }
)
_GROUP_FIELDS = frozenset({"id", "name", "position", "active", "services"})
_SERVICE_FIELDS = frozenset(
    {
        "id",
        "name",
        "position",
        "active",
        "prefix",
        "walkIn",
        "walkInHours",
        "avgServiceMinutes",
        "appointment",
    }
)
_APPOINTMENT_FIELDS = frozenset(
    {
        "prefix",
        "slotMinutes",
        "capacity",
        "horizonDays",
        "minNoticeMinutes",
        "hours",
        "graceMinutes",
    }
)
_ZONES: frozenset[str] = frozenset()


def _zones() -> frozenset[str]:
    global _ZONES  # computed once: available_timezones() walks the tzdata package
    if not _ZONES:
        _ZONES = frozenset(available_timezones())
    return _ZONES


@dataclass(frozen=True, slots=True)
class _OriginProblem:
    message: str


def _origin(raw: object) -> str | _OriginProblem:
    """An origin as a browser's ``Origin`` header spells it, or what is wrong with it.
    Browsers send the scheme and host in lower case and leave out a default port, so
    the file's spelling is normalized to that; the match on requests is then exact."""
    if not isinstance(raw, str) or not raw.strip():
        return _OriginProblem("must be a non-empty string")
    if raw.strip() in {"*", "null"}:
        return _OriginProblem(f"{raw.strip()!r} is not allowed; list each origin")
    if len(raw) > MAX_ORIGIN_LENGTH:
        return _OriginProblem(f"must be at most {MAX_ORIGIN_LENGTH} characters")
    if not raw.isascii():
        return _OriginProblem("write an internationalized host name in punycode (xn--…)")
    match = ORIGIN.fullmatch(raw.strip())
    if match is None:
        return _OriginProblem(ORIGIN_HINT)
    scheme, host, port = match["scheme"].lower(), match["host"].lower(), match["port"]
    if port is not None:
        if not 1 <= int(port) <= 65_535:
            return _OriginProblem("the port must be between 1 and 65535")
        port = str(int(port))
    if port is None or DEFAULT_PORTS.get(scheme) == port:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _key(name: LocalizedText | None, locale: str) -> str:
    return (name or {}).get(locale, "")


def _as_date(value: Any) -> date | None:
    # YAML turns an unquoted 2026-12-16 into a date already; a quoted one stays a string.
    if isinstance(value, datetime):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


def parse_company_file(raw: object) -> CompanySpec:
    parser = _FileParser()
    spec = parser.company(raw)
    if parser.problems or spec is None:
        problems = parser.problems.items or [Problem("", "the file describes no company")]
        raise CompanyFileError(problems)
    return spec
