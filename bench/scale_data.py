"""The national-scale database of `bench/scale.py`: every table the portal reads, filled with COPY.

Rows are generated in this process as text lines of PostgreSQL's COPY format and streamed with psycopg's
`cursor.copy()`; nothing goes through the ORM. Every value is a function of the row's index and of a seeded
random generator, so a build is the same each time for a scale, and the big tables (codes, ledger, outbox,
audit, module completions) are generated in passes over per-activity counts rather than kept in memory.

The secondary indexes, unique and foreign-key constraints of the tables filled here are dropped before the
COPY and created again after it (one sort per index instead of millions of insertions, foreign keys checked
once by a join): several times faster than COPY into the indexed tables. CHECK constraints stay in place, so
every row is checked against them as it arrives; the unique indexes and foreign keys check the whole data when
they are created again.
"""

import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from accounts.snils import snils_control
from codes.format import ALPHABET

TABLES = [  # every table this module fills; their indexes and constraints are dropped around the COPY
    "accounts_user",
    "account_emailaddress",
    "accounts_doctorprofile",
    "accounts_doctorprofile_specialties",
    "accounts_workrecord",
    "accounts_organization",
    "accounts_organization_specialties",
    "accounts_membership",
    "accounts_reviewerappointment",
    "accounts_auditevent",
    "events_event",
    "events_event_specialties",
    "events_eventtransition",
    "modules_module",
    "modules_module_specialties",
    "modules_moduletransition",
    "modules_modulecompletion",
    "review_publicnumber",
    "codes_icpcode",
    "credits_creditentry",
    "credits_outboxrecord",
    "learning_plan_accreditationdocument",
    "learning_plan_cycle",
    "learning_plan_programmeentry",
    "learning_plan_portfolio",
    "learning_plan_reportsection",
    "learning_plan_portfolioreminder",
    "ministry_sync_ministrylink",
    "societies_announcement",
    "societies_announcement_specialties",
    "societies_digestsubscription",
    "societies_survey",
    "societies_survey_specialties",
    "societies_question",
    "societies_option",
    "societies_surveyparticipation",
    "societies_answerset",
    "societies_answer",
    "statuses_commissionmember",
    "statuses_statusapplication",
    "statuses_stageresult",
    "statuses_status",
    "statuses_statusreminder",
]

EMAIL_DOMAIN = "@scale.invalid"
NULL = "\\N"
DAY = timedelta(days=1)
YEARS5 = 1826  # days of a five-year cycle, leap days included
PSYCHIATRY = "31.08.20"
SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов", "Новиков", "Фёдоров",
    "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров", "Павлов", "Козлов", "Степанов", "Николаев",
    "Орлов", "Андреев", "Макаров", "Никитин", "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев",
]  # fmt: skip
FIRST_NAMES = ["Александр", "Мария", "Дмитрий", "Анна", "Сергей", "Елена", "Андрей", "Ольга", "Алексей", "Татьяна"]
MIDDLE_NAMES = ["Александрович", "Сергеевна", "Дмитриевич", "Андреевна", "Иванович", "Петровна", "Олегович"]
TOPICS = [
    "Депрессия в общей врачебной практике",
    "Тревожные расстройства: диагностика и терапия",
    "Шизофрения: современные подходы к лечению",
    "Биполярное аффективное расстройство",
    "Психофармакотерапия депрессивных состояний",
    "Когнитивно-поведенческая психотерапия",
    "Зависимость от психоактивных веществ",
    "Судебно-психиатрическая экспертиза в уголовном процессе",
    "Неотложная помощь при остром коронарном синдроме",
    "Артериальная гипертензия у пожилых",
    "Сахарный диабет второго типа",
    "Ультразвуковая диагностика в акушерстве",
    "Анестезия в детской хирургии",
    "Рентгенологическая диагностика пневмоний",
    "Педиатрия: вакцинопрофилактика",
    "Онкологическая настороженность в первичном звене",
    "Хроническая боль и её лечение",
    "Расстройства сна",
    "Деменция и когнитивные нарушения",
    "Суицидальное поведение: оценка риска",
]
FORMS = ["Школа", "Конференция", "Семинар", "Мастер-класс", "Вебинар", "Круглый стол", "Симпозиум"]
PROGRAMME = (
    "Лекции ведущих специалистов и клинические разборы. Рассматриваются вопросы диагностики, дифференциальной "
    "диагностики и лечения; клинические рекомендации Минздрава России; разбор трудных случаев из практики "
    "участников; фармакотерапия и её побочные эффекты; организация помощи пациентам в амбулаторных условиях и в "
    "стационаре; взаимодействие с пациентом и его семьёй; правовые вопросы. Итоговое тестирование. "
)


def esc(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def lines(rows: Iterable[Sequence[object]]) -> Iterator[str]:
    for row in rows:
        yield "\t".join(map(esc, row))


# ИКП codes from their row index: a bijection of the 35^11 bodies (multiplication by a number coprime to 35)
# read in base 35 through tables of three symbols, with the check symbol from the tables' weighted sums, as
# codes.format computes it (weights 2^11 … 2 for the body, mod 35).
_BASE = len(ALPHABET)
_SPACE = _BASE**11
_MULTIPLIER = 0x9E3779B97F4A7C15 % _SPACE
while math.gcd(_MULTIPLIER, _BASE) != 1:
    _MULTIPLIER += 1
_W = [pow(2, 11 - i, _BASE) for i in range(11)]


def _chunk_tables(width: int, weights: list[int]) -> tuple[list[str], list[int]]:
    texts, sums = [], []
    for value in range(_BASE**width):
        digits = []
        for _ in range(width):
            value, digit = divmod(value, _BASE)
            digits.append(digit)
        digits.reverse()
        texts.append("".join(ALPHABET[d] for d in digits))
        sums.append(sum(d * w for d, w in zip(digits, weights, strict=True)) % _BASE)
    return texts, sums


class CodeMaker:
    def __init__(self) -> None:
        self.t0, self.s0 = _chunk_tables(3, _W[0:3])
        self.t1, self.s1 = _chunk_tables(3, _W[3:6])
        self.t2, self.s2 = _chunk_tables(3, _W[6:9])
        self.t3, self.s3 = _chunk_tables(2, _W[9:11])

    def code(self, index: int) -> str:
        x = (index * _MULTIPLIER + 12345) % _SPACE
        x, d = divmod(x, 1225)
        x, c = divmod(x, 42875)
        a, b = divmod(x, 42875)
        total = self.s0[a] + self.s1[b] + self.s2[c] + self.s3[d]
        return self.t0[a] + self.t1[b] + self.t2[c] + self.t3[d] + ALPHABET[-total % _BASE]


def verify_token(index: int) -> str:
    return f"{(index * 0x9E3779B97F4A7C15F39CC0605CEDC835) & ((1 << 128) - 1):032x}"


def snils(index: int) -> str:
    number = f"{100_000_000 + index * 7:09d}"  # past 001-001-998: every number has its control sum
    return number + snils_control(number)


def coprime_stride(modulus: int, rng: random.Random) -> int:
    """A step that visits every residue of `modulus` before repeating: distinct doctors per activity."""
    while True:
        stride = rng.randrange(1, max(modulus, 2))
        if math.gcd(stride, modulus) == 1:
            return stride


@dataclass
class Counts:
    scale: float
    doctors: int
    organizations: int
    societies: int
    events: int
    modules: int
    codes: int
    ledger: int
    reviewers: int
    announcements: int
    surveys: int
    applications: int

    @classmethod
    def at(cls, scale: float) -> "Counts":
        def n(full: float, least: int) -> int:
            return max(least, round(full * scale))

        return cls(
            scale=scale,
            doctors=n(450_000, 300),
            organizations=n(3_000, 12),
            societies=4,
            events=n(60_000, 600),
            modules=n(20_000, 300),
            codes=n(12_000_000, 3_000),
            ledger=n(15_000_000, 3_750),
            reviewers=n(300, 30),  # at least one per specialty (23)
            announcements=n(5_000, 30),
            surveys=n(20, 3),
            applications=n(20_000, 40),
        )


@dataclass
class Built:
    """What the measurement needs to find in the database (ids), and the figures of the build."""

    counts: Counts
    seconds: dict[str, float] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)


class Builder:
    def __init__(self, conn: psycopg.Connection[Any], counts: Counts, *, log: Callable[[str], None]) -> None:
        self.conn = conn
        self.c = counts
        self.log = log
        self.rng = random.Random(20_260_101)
        self.today = date.today()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.built = Built(counts)
        self.codes = CodeMaker()
        specialties = conn.execute("SELECT id, code FROM accounts_specialty ORDER BY id").fetchall()
        self.specialty_ids = [pk for pk, _code in specialties]
        self.specialty_code = dict(specialties)
        self.psychiatry = next(pk for pk, code in specialties if code == PSYCHIATRY)
        # psychiatry and its neighbours are common, as are general specialties; weights are relative
        self.specialty_weights = [6 if code.startswith("31.08.2") else 2 for _pk, code in specialties]
        self.rule_id = conn.execute("SELECT id FROM learning_plan_cyclerule WHERE is_default").fetchone()[0]  # type: ignore[index]
        programme = conn.execute("SELECT id, validity_years FROM statuses_statusprogramme ORDER BY id").fetchone()
        assert programme is not None, "the migrations create the «Московский врач» programme"
        self.programme_id, self.validity_years = programme
        self.programme_specialties = [
            row[0]
            for row in conn.execute(
                "SELECT specialty_id FROM statuses_statusprogramme_specialties WHERE statusprogramme_id = %s",
                [self.programme_id],
            )
        ]
        self.stages = [row[0] for row in conn.execute("SELECT id FROM statuses_programmestage ORDER BY position")]

    # -- plumbing --------------------------------------------------------------------------------------

    def copy(self, table: str, columns: str, rows: Iterable[str]) -> int:
        began = time.perf_counter()
        count = 0
        batch: list[str] = []
        with self.conn.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                batch.append(row)
                if len(batch) >= 20_000:
                    copy.write("\n".join(batch) + "\n")
                    count += len(batch)
                    batch = []
            if batch:
                copy.write("\n".join(batch) + "\n")
                count += len(batch)
        seconds = time.perf_counter() - began
        self.built.rows[table] = self.built.rows.get(table, 0) + count
        self.built.seconds[f"copy {table}"] = self.built.seconds.get(f"copy {table}", 0.0) + seconds
        if count > 50_000:
            self.log(f"    {table}: {count:,} rows in {seconds:.1f} s")
        return count

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def moment(self, day: date, hour: int = 7) -> datetime:
        return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)

    def specialty(self) -> int:
        chosen: int = self.rng.choices(self.specialty_ids, self.specialty_weights)[0]
        return chosen

    # -- the build ---------------------------------------------------------------------------------------

    def run(self) -> Built:
        c = self.c
        self.doctor_pool = c.doctors - 1  # doctor 0 is the doctor with 500 records, kept out of the random draws
        self.users()
        self.organizations()
        self.activities()
        self.codes_and_ledger()
        self.learning_plan()
        self.societies()
        self.statuses()
        return self.built

    def users(self) -> None:
        c, rng = self.c, self.rng
        # user ids: doctors 1..D, provider administrators D+1..D+O (one per organization), reviewers, commission
        # members, one superuser
        self.first_admin = c.doctors + 1
        self.first_reviewer = self.first_admin + c.organizations
        self.first_member = self.first_reviewer + c.reviewers
        self.commission = len(self.programme_specialties) * 2
        self.superuser = self.first_member + self.commission
        total = self.superuser
        self.doctor_specialties: list[list[int]] = []
        self.doctor_issued: list[int] = []  # days before today the doctor's document was issued
        for i in range(c.doctors):
            first = self.psychiatry if i == 0 else self.specialty()
            more = [first]
            if i and rng.random() < 0.2:
                second = self.specialty()
                if second != first:
                    more.append(second)
            self.doctor_specialties.append(more)
            self.doctor_issued.append(4 * 365 if i == 0 else rng.randrange(1, YEARS5))
        joined = str(self.now - timedelta(days=2000))

        def user_rows() -> Iterator[str]:
            for pk in range(1, total + 1):
                i = pk - 1
                surname = SURNAMES[i % len(SURNAMES)]
                first = FIRST_NAMES[(i // 30) % len(FIRST_NAMES)]
                middle = MIDDLE_NAMES[(i // 300) % len(MIDDLE_NAMES)]
                if pk <= c.doctors:
                    email, staff, superuser = f"doctor{pk}{EMAIL_DOMAIN}", "f", "f"
                elif pk < self.first_reviewer:
                    email, staff, superuser = f"provider{pk}{EMAIL_DOMAIN}", "f", "f"
                elif pk < self.first_member:
                    email, staff, superuser = f"expert{pk}{EMAIL_DOMAIN}", "f", "f"
                elif pk < self.superuser:
                    email, staff, superuser = f"commission{pk}{EMAIL_DOMAIN}", "f", "f"
                else:
                    email, staff, superuser = f"admin{EMAIL_DOMAIN}", "t", "t"
                yield (
                    f"{pk}\t!unusable\t\\N\t{superuser}\t{email}\t{surname}\t{first}\t{middle}\tru\tEurope/Moscow\t"
                    f"{staff}\tt\t{joined}"
                )

        self.copy(
            "accounts_user",
            "id, password, last_login, is_superuser, email, last_name, first_name, middle_name, language, timezone, "
            "is_staff, is_active, date_joined",
            user_rows(),
        )
        self.copy(
            "account_emailaddress",
            'id, email, verified, "primary", user_id',
            (f"{pk}\t{self._email(pk)}\tt\tt\t{pk}" for pk in range(1, total + 1)),
        )
        updated = str(self.now)

        def profiles() -> Iterator[str]:
            for i in range(c.doctors):
                confirmed = updated if i % 5 else NULL  # four in five confirmed by the Ministry
                reminders = "f" if i % 20 == 19 else "t"
                yield f"{i + 1}\t{snils(i)}\t{updated}\t{i + 1}\t{confirmed}\t{reminders}"

        self.copy(
            "accounts_doctorprofile",
            "id, snils, updated_at, user_id, snils_confirmed_at, accreditation_reminders",
            profiles(),
        )
        self.copy(
            "accounts_doctorprofile_specialties",
            "doctorprofile_id, specialty_id",
            (f"{i + 1}\t{s}" for i, ss in enumerate(self.doctor_specialties) for s in ss),
        )

        def work() -> Iterator[str]:
            for i in range(c.doctors):
                started = self.day(-self.doctor_issued[i] - 365 * (2 + i % 15))
                yield (
                    f"ГБУЗ «Больница № {i % 400 + 1}»\t77{i % 10**8:08d}\t77\tОтделение {i % 12 + 1}\t"
                    f"врач\t{started}\t\\N\t{updated}\t{i + 1}\t{self.doctor_specialties[i][0]}"
                )
                if i % 3 == 0:
                    yield (
                        f"Клиника «Здоровье-{i % 97}»\t50{i % 10**8:08d}\t50\tПоликлиника\tврач\t"
                        f"{started - timedelta(days=900)}\t{started - timedelta(days=30)}\t{updated}\t{i + 1}\t"
                        f"{self.doctor_specialties[i][0]}"
                    )

        self.copy(
            "accounts_workrecord",
            "employer, employer_inn, region, unit, position, started_on, ended_on, created_at, doctor_id, specialty_id",
            work(),
        )

    def _email(self, pk: int) -> str:
        c = self.c
        if pk <= c.doctors:
            return f"doctor{pk}{EMAIL_DOMAIN}"
        if pk < self.first_reviewer:
            return f"provider{pk}{EMAIL_DOMAIN}"
        if pk < self.first_member:
            return f"expert{pk}{EMAIL_DOMAIN}"
        if pk < self.superuser:
            return f"commission{pk}{EMAIL_DOMAIN}"
        return f"admin{EMAIL_DOMAIN}"

    def organizations(self) -> None:
        c = self.c
        now = str(self.now)
        kinds = ["nko", "university", "congress", "other"]

        def rows() -> Iterator[tuple[object, ...]]:
            for k in range(1, c.organizations + 1):
                society = k <= c.societies
                yield (
                    k,
                    f"Российское общество специалистов № {k}" if society else f"Организация-провайдер № {k}",
                    f"РОС-{k}" if society else f"Провайдер {k}",
                    "society" if society else kinds[k % len(kinds)],
                    f"77{k:08d}",
                    f"org{k}{EMAIL_DOMAIN}",
                    "",
                    "Москва",
                    "verified",
                    "",
                    now,
                    now,
                    None,
                    None,
                )

        self.copy(
            "accounts_organization",
            "id, name, short_name, kind, inn, email, website, address, status, status_reason, status_changed_at, "
            "created_at, created_by_id, status_changed_by_id",
            lines(rows()),
        )
        # each society carries a quarter of the specialties, the first one psychiatry and its neighbours
        self.society_specialties: dict[int, list[int]] = {}
        for k in range(1, c.societies + 1):
            if k == 1:
                own = [pk for pk, code in self.specialty_code.items() if code.startswith("31.08.2")]
            else:
                own = self.specialty_ids[k - 2 :: c.societies]
            self.society_specialties[k] = own
        self.copy(
            "accounts_organization_specialties",
            "organization_id, specialty_id",
            (f"{k}\t{s}" for k, own in self.society_specialties.items() for s in own),
        )
        self.copy(
            "accounts_membership",
            "role, created_at, user_id, organization_id",
            (f"admin\t{now}\t{self.first_admin + k - 1}\t{k}" for k in range(1, c.organizations + 1)),
        )
        self.copy(
            "accounts_reviewerappointment",
            "society, is_active, appointed_at, appointed_by_id, user_id, specialty_id, organization_id",
            (
                f"\tt\t{now}\t\\N\t{self.first_reviewer + r}\t{self.specialty_ids[r % len(self.specialty_ids)]}\t\\N"
                for r in range(c.reviewers)
            ),
        )
        self.built.ids["superuser"] = self.superuser
        self.built.ids["society"] = 1
        self.built.ids["society_admin"] = self.first_admin
        self.built.ids["reviewer"] = self.first_reviewer + self.specialty_ids.index(self.psychiatry)
        self.built.ids["provider"] = c.societies + 1
        self.built.ids["provider_admin"] = self.first_admin + c.societies

    def activities(self) -> None:
        """Events and modules, their specialties, public numbers and review history."""
        c, rng = self.c, self.rng
        special = 2  # the events with 10,000 and 200,000 codes, after the others
        n_events = c.events + special
        self.event_end: list[date] = []
        self.event_credits: list[int] = []
        self.event_org: list[int] = []
        self.event_status: list[str] = []
        reviewer = self.built.ids["reviewer"]
        for e in range(n_events):
            if e < 250:
                end = -30 - e * 5  # the doctor with 500 records attended these, over the last ~3.5 years
            elif e >= c.events:
                end = -60  # the two big events ended two months ago
            else:
                end = rng.randrange(-YEARS5, 91)
            self.event_end.append(self.day(end))
            self.event_credits.append(rng.randrange(2, 13))
            self.event_org.append(
                self.built.ids["provider"] if e >= c.events else rng.randrange(1, c.organizations + 1)
            )
            roll = rng.random()
            status = "approved" if e < 250 or e >= c.events or roll < 0.97 else "in_review" if roll < 0.985 else "draft"
            self.event_status.append(status)
        # a few cases of the psychiatry expert (the reviewer's queue)
        for e in range(250, min(c.events, 250 + 400)):
            if self.event_status[e] == "in_review":
                continue
            if rng.random() < 0.05:
                self.event_status[e] = "in_review"
        self.event_specialties = [
            [self.psychiatry] if e < 250 or e >= c.events else rng.sample(self.specialty_ids, rng.choice((1, 1, 2, 3)))
            for e in range(n_events)
        ]
        serial = [0]
        numbers: list[tuple[str, int, str, str]] = []

        def number(kind: str, pk: int, decided: datetime) -> str:
            serial[0] += 1
            text = f"{decided.year}-{serial[0]:06d}"
            numbers.append((kind, pk, text, str(decided)))
            return text

        def events() -> Iterator[tuple[object, ...]]:
            for e in range(n_events):
                pk = e + 1
                end = self.event_end[e]
                start = end - timedelta(days=rng.choice((0, 0, 1, 2)))
                credits = self.event_credits[e]
                hours = credits + rng.randrange(0, 6)
                status = self.event_status[e]
                created = self.moment(start - timedelta(days=60))
                decided = self.moment(start - timedelta(days=30)) if status == "approved" else None
                topic = TOPICS[(e * 7) % len(TOPICS)]
                title = f"{FORMS[e % len(FORMS)]} «{topic}»" + (f" № {e // len(TOPICS) + 1}" if e % 3 else "")
                if e == c.events:
                    title = "Конгресс психиатров (10 000 участников)"
                elif e == c.events + 1:
                    title = "Национальный конгресс (200 000 участников)"
                in_review = status == "in_review"
                yield (
                    pk,
                    title,
                    hours,
                    credits,
                    status,
                    credits if status == "approved" else None,
                    str(created + DAY) if status != "draft" else None,
                    str(created + 2 * DAY) if status != "draft" else None,
                    str(self.now + timedelta(days=rng.randrange(-5, 20))) if in_review else None,
                    str(decided) if decided else None,
                    str(created),
                    str(decided or created),
                    PROGRAMME + topic + ".",
                    ("in_person", "online", "mixed")[e % 3],
                    f"Москва, ул. Примерная, {e % 200 + 1}" if e % 3 != 1 else "",
                    "https://example.invalid/live" if e % 3 else "",
                    str(self.moment(start, 7)),
                    str(self.moment(end, 15)),
                    None,
                    self.event_org[e],
                    (reviewer if 250 <= e < 650 else self.first_reviewer + e % c.reviewers)
                    if in_review
                    else (reviewer if status == "approved" else None),
                    end,
                    number("event", pk, decided) if decided else None,
                    start,
                    "Europe/Moscow",
                )

        self.copy(
            "events_event",
            "id, title, hours, credits_requested, status, credits_granted, submitted_at, assigned_at, due_at, "
            "decided_at, created_at, updated_at, programme, format, venue, link, starts_at, ends_at, created_by_id, "
            "organization_id, reviewer_id, end_date, public_number, start_date, timezone",
            lines(events()),
        )
        self.copy(
            "events_event_specialties",
            "event_id, specialty_id",
            (f"{e + 1}\t{s}" for e, ss in enumerate(self.event_specialties) for s in ss),
        )
        self.built.ids["big_event"] = c.events + 2
        self.built.ids["list_event"] = c.events + 1
        self.built.ids["event_specialty"] = self.specialty_code[self.psychiatry]
        self.module_credits: list[int] = []
        self.module_from: list[date] = []
        self.module_specialties: list[list[int]] = []
        for m in range(c.modules):
            self.module_credits.append(rng.randrange(1, 7))
            self.module_from.append(self.day(-YEARS5 - 200 if m < 250 else rng.randrange(-YEARS5, -30)))
            self.module_specialties.append(
                [self.psychiatry] if m < 250 else rng.sample(self.specialty_ids, rng.choice((1, 1, 2)))
            )

        def modules() -> Iterator[tuple[object, ...]]:
            for m in range(c.modules):
                pk = m + 1
                available = self.module_from[m]
                credits = self.module_credits[m]
                decided = self.moment(available - 5 * DAY)
                topic = TOPICS[(m * 3) % len(TOPICS)]
                yield (
                    pk,
                    f"Интерактивный модуль «{topic}» № {m + 1}",
                    credits + 1,
                    credits,
                    "approved",
                    credits,
                    str(decided - 20 * DAY),
                    str(decided - 19 * DAY),
                    None,
                    str(decided),
                    str(decided - 30 * DAY),
                    str(decided),
                    "Клинические рекомендации, задачи и тестирование. " + topic + ".",
                    f"https://example.invalid/modules/{pk}",
                    available,
                    available + timedelta(days=YEARS5 + 365),
                    None,
                    rng.randrange(1, c.organizations + 1),
                    reviewer,
                    number("module", pk, decided),
                )

        self.copy(
            "modules_module",
            "id, title, hours, credits_requested, status, credits_granted, submitted_at, assigned_at, due_at, "
            "decided_at, created_at, updated_at, annotation, link, available_from, available_until, created_by_id, "
            "organization_id, reviewer_id, public_number",
            lines(modules()),
        )
        self.copy(
            "modules_module_specialties",
            "module_id, specialty_id",
            (f"{m + 1}\t{s}" for m, ss in enumerate(self.module_specialties) for s in ss),
        )
        self.copy(
            "review_publicnumber",
            "id, kind, activity_id, number, issued_at",
            (f"{i + 1}\t{kind}\t{pk}\t{text}\t{at}" for i, (kind, pk, text, at) in enumerate(numbers)),
        )
        self.built.ids["public_number"] = numbers[len(numbers) // 2][2]

        def transitions(status: list[str] | None, count: int, credits: list[int]) -> Iterator[str]:
            for a in range(count):
                if status is not None and status[a] == "draft":
                    continue
                at = str(self.now - timedelta(days=400))
                yield f"draft\tsubmitted\t\t\\N\t{at}\t\\N\t{a + 1}\t\\N"
                yield f"submitted\tin_review\t\t\\N\t{at}\t\\N\t{a + 1}\t{reviewer}"
                if status is None or status[a] == "approved":
                    yield f"in_review\tapproved\tОдобрено.\t{credits[a]}\t{at}\t{reviewer}\t{a + 1}\t{reviewer}"

        self.copy(
            "events_eventtransition",
            "from_status, to_status, comment, credits, created_at, actor_id, event_id, reviewer_id",
            transitions(self.event_status, n_events, self.event_credits),
        )
        self.copy(
            "modules_moduletransition",
            "from_status, to_status, comment, credits, created_at, actor_id, module_id, reviewer_id",
            transitions(None, c.modules, self.module_credits),
        )

    def codes_and_ledger(self) -> None:
        """Codes of ended approved events (80% activated), module completions, the ledger rows they wrote, the
        outbox rows (nearly all delivered and announced) and the audit rows of the activations."""
        c, rng = self.c, self.rng
        ended = [e for e in range(c.events) if self.event_status[e] == "approved" and self.event_end[e] < self.today]
        big = c.events + 1  # index of the 200,000-code event; c.events is the 10,000-code one
        special_codes = 10_000 + 200_000
        # at full scale the two big events are part of the 12 million; at small scales they come on top
        bulk = max(c.codes - special_codes if c.codes > 10 * special_codes else c.codes, len(ended))
        weights = [rng.paretovariate(1.6) for _ in ended]
        total_weight = sum(weights)
        cap = max(50, min(60_000, bulk // 4))
        plan: list[tuple[int, int, int, int, int]] = []  # (event, first code index, codes, activated, stride)
        index = 0
        for e, weight in zip(ended, weights, strict=True):
            n = min(cap, max(1, round(bulk * weight / total_weight)))
            plan.append((e, index, n, min(round(n * 0.8), self.doctor_pool), coprime_stride(self.doctor_pool, rng)))
            index += n
        for e, n, share in ((c.events, 10_000, 0.6), (big, 200_000, 0.8)):
            plan.append((e, index, n, min(round(n * share), self.doctor_pool), coprime_stride(self.doctor_pool, rng)))
            index += n
        d0_first_code = index  # the doctor with 500 records: one code of each of the first 250 events
        n_codes = index + 250
        self.built.ids["codes"] = n_codes
        module_credits = max(c.modules, c.ledger - round(c.codes * 0.8))  # the ledger rows that are not codes'
        m_weights = [rng.paretovariate(1.4) for _ in range(c.modules)]
        m_total = sum(m_weights)
        m_plan: list[tuple[int, int, int, int]] = []  # (module, first completion index, completions, stride)
        index = 0
        for m, weight in enumerate(m_weights):
            n = min(self.doctor_pool, max(1, round(module_credits * weight / m_total)))
            m_plan.append((m, index, n, coprime_stride(self.doctor_pool, rng)))
            index += n
        d0_first_completion = index
        offsets = [rng.randrange(0, 30) for _ in range(997)]

        def doctor_of(start: int, j: int, stride: int) -> int:
            return 1 + (start + j * stride) % self.doctor_pool  # doctor index 1.., user id = index + 1

        def activated_on(e: int, j: int) -> date:
            return min(self.event_end[e] + timedelta(days=offsets[j % 997]), self.today)

        code_of = self.codes.code
        list_event = c.events
        mailed = str(self.now - timedelta(days=50))

        def code_rows() -> Iterator[str]:
            for e, first, n, activated, stride in plan:
                created = str(self.moment(self.event_end[e], 16))
                start = (e * 7919) % self.doctor_pool
                event_pk = e + 1
                for j in range(n):
                    i = first + j
                    pk = i + 1
                    if e == list_event:
                        name = f"{SURNAMES[j % 30]} {FIRST_NAMES[j // 30 % 10]} {MIDDLE_NAMES[j // 300 % 7]}"
                        holder = f"{name}\tguest{j}@list.invalid\t\t"
                        mail = mailed
                    else:
                        holder, mail = "\t\t\t", NULL
                    token = verify_token(i)
                    if j < activated:
                        doctor = doctor_of(start, j, stride) + 1
                        at = str(self.moment(activated_on(e, j), 9))
                        yield (
                            f"{pk}\t{code_of(i)}\t{holder}{token}\tactivated\t{at}\tf\t\\N\t\t{mail}\t{created}\t"
                            f"{doctor}\t{event_pk}\t\\N\t\\N"
                        )
                    elif j % 19 == 0:
                        yield (
                            f"{pk}\t{code_of(i)}\t{holder}{token}\trevoked\t\\N\tf\t{created}\tВыдан по ошибке\t"
                            f"{mail}\t{created}\t\\N\t{event_pk}\t\\N\t\\N"
                        )
                    else:
                        yield (
                            f"{pk}\t{code_of(i)}\t{holder}{token}\tissued\t\\N\tf\t\\N\t\t{mail}\t{created}\t"
                            f"\\N\t{event_pk}\t\\N\t\\N"
                        )
            for j in range(250):
                i = d0_first_code + j
                at = str(self.moment(activated_on(j, 0), 9))
                yield (
                    f"{i + 1}\t{code_of(i)}\t\t\t\t{verify_token(i)}\tactivated\t{at}\tt\t\\N\t\t\\N\t{at}\t1\t{j + 1}"
                    "\t\\N\t\\N"
                )

        self.log("  codes")
        self.copy(
            "codes_icpcode",
            "id, code, holder_name, holder_email, holder_snils, verify_token, status, activated_at, show_holder_name, "
            "revoked_at, revoke_reason, mailed_at, created_at, activated_by_id, event_id, revoked_by_id, batch_id",
            code_rows(),
        )
        self.built.ids["issued_code_range"] = [plan[0][1] + 1, plan[-3][1] + plan[-3][2]]

        def completion_day(m: int, j: int) -> date:
            span = (self.today - self.module_from[m]).days
            return self.module_from[m] + timedelta(days=(j * 7 + m) % max(span, 1))

        def completions() -> Iterator[str]:
            for m, first, n, stride in m_plan:
                start = (m * 104729) % self.doctor_pool
                for j in range(n):
                    doctor = doctor_of(start, j, stride)
                    done = self.moment(completion_day(m, j), 10)
                    yield (
                        f"{first + j + 1}\t{first + j + 1}\t{snils(doctor)}\t\t{done}\t{done}\tsnils\t{done}\t"
                        f"{doctor + 1}\t{m + 1}\t\\N"
                    )
            for j in range(250):
                done = self.moment(self.today - timedelta(days=20 + j * 5), 10)
                pk = d0_first_completion + j + 1
                yield f"{pk}\t{pk}\t{snils(0)}\t\t{done}\t{done}\tsnils\t{done}\t1\t{j + 1}\t\\N"

        self.log("  module completions")
        self.copy(
            "modules_modulecompletion",
            "id, external_id, snils, email, completed_at, credited_at, matched_by, created_at, doctor_id, module_id, "
            "reported_by_id",
            completions(),
        )

        # The ledger: one row per activated code, then one per module completion, then the doctor with 500
        # records; the outbox row of each ledger row carries its id.
        def ledger() -> Iterator[tuple[int, int, str, int, str, int, int, date, str]]:
            """(entry id, doctor user id, source, source id, activity kind, activity id, credits, earned, at)"""
            pk = 0
            for e, first, _n, activated, stride in plan:
                start = (e * 7919) % self.doctor_pool
                for j in range(activated):
                    pk += 1
                    day = activated_on(e, j)
                    yield (
                        pk,
                        doctor_of(start, j, stride) + 1,
                        "code",
                        first + j + 1,
                        "event",
                        e + 1,
                        self.event_credits[e],
                        self.event_end[e],
                        str(self.moment(day, 9)),
                    )
            for m, first, n, stride in m_plan:
                start = (m * 104729) % self.doctor_pool
                for j in range(n):
                    pk += 1
                    day = completion_day(m, j)
                    yield (
                        pk,
                        doctor_of(start, j, stride) + 1,
                        "module_completion",
                        first + j + 1,
                        "module",
                        m + 1,
                        self.module_credits[m],
                        day,
                        str(self.moment(day, 10)),
                    )
            for j in range(250):
                pk += 1
                day = activated_on(j, 0)
                yield (pk, 1, "code", d0_first_code + j + 1, "event", j + 1, self.event_credits[j], self.event_end[j],
                       str(self.moment(day, 9)))  # fmt: skip
                pk += 1
                day = self.today - timedelta(days=20 + j * 5)
                yield (pk, 1, "module_completion", d0_first_completion + j + 1, "module", j + 1,
                       self.module_credits[j], day, str(self.moment(day, 10)))  # fmt: skip

        self.log("  ledger")
        self.copy(
            "credits_creditentry",
            "id, kind, source, source_id, activity_kind, activity_id, credits, earned_on, comment, created_at, "
            "actor_id, doctor_id, reverses_id, specialty_id, credit_number",
            (
                f"{pk}\tcredit\t{source}\t{sid}\t{kind}\t{aid}\t{credits}\t{earned}\t\t{at}\t{doctor}\t{doctor}\t\\N"
                "\t\\N\t1"
                for pk, doctor, source, sid, kind, aid, credits, earned, at in ledger()
            ),
        )
        past = str(self.now - timedelta(hours=2))

        def outbox() -> Iterator[str]:
            for pk, doctor, _source, _sid, _kind, _aid, _credits, _earned, at in ledger():
                key = f"5ca1e000-0000-4000-8000-{pk:012x}"
                announced = NULL if pk % 10_007 == 0 else at
                if pk % 200 == 0:  # waiting: the doctor's account is not linked, or the Ministry did not answer
                    yield (
                        f"{pk}\t{key}\tpending\t{pk % 5}\t{past}\t\t\t\\N\t{announced}\t1\t{past}\t{at}\t{doctor}\t{pk}"
                    )
                else:
                    yield f"{pk}\t{key}\tdelivered\t1\t{at}\t\t{pk}\t{at}\t{announced}\t1\t{at}\t{at}\t{doctor}\t{pk}"

        self.log("  outbox")
        self.copy(
            "credits_outboxrecord",
            "id, idempotency_key, state, attempts, next_attempt_at, last_error, ministry_record_id, delivered_at, "
            "announced_at, announce_attempts, announce_due_at, created_at, doctor_id, entry_id",
            outbox(),
        )

        def audit() -> Iterator[str]:
            pk = 0
            for e, first, _n, activated, stride in plan:
                start = (e * 7919) % self.doctor_pool
                credits = self.event_credits[e]
                for j in range(activated):
                    pk += 1
                    i = first + j
                    code = code_of(i)
                    at = str(self.moment(activated_on(e, j), 9))
                    yield (
                        f"{pk}\tcode.activate\tcodes.icpcode\t{i + 1}\t{code[:4]}-{code[4:]}\t"
                        f"10.{j % 250}.{e % 250}.1\t"
                        f'{{"event": {e + 1}, "credits": {credits}}}\t{at}\t{doctor_of(start, j, stride) + 1}'
                    )
            for e in range(c.events):
                if self.event_status[e] == "approved":
                    pk += 1
                    yield (
                        f"{pk}\tevent.approve\tevents.event\t{e + 1}\tМероприятие {e + 1}\t\\N\t{{}}\t"
                        f"{self.moment(self.event_end[e] - 30 * DAY)}\t{self.built.ids['reviewer']}"
                    )

        self.log("  audit")
        self.copy(
            "accounts_auditevent",
            "id, action, object_type, object_id, object_repr, ip, details, created_at, actor_id",
            audit(),
        )
        self.built.ids["d0_codes"] = [d0_first_code + 1, d0_first_code + 250]

    def learning_plan(self) -> None:
        c = self.c
        now = str(self.now)

        # one document per doctor (the first specialty), issued over the last five years, with the markers of the
        # reminders sent on the days before today (the rows below): the window's (90 < days left <= 364), the
        # 90-day one (0 < left <= 89) and hours short (0 < left <= 179, never weighed again)
        def documents() -> Iterator[str]:
            for i in range(c.doctors):
                left = YEARS5 - self.doctor_issued[i]  # days until the document expires
                window, days_90 = ("t" if 90 < left <= 364 else "f"), ("t" if 0 < left <= 89 else "f")
                hours = str(date.max) if 0 < left <= 179 else NULL  # AccreditationDocument.HOURS_REMINDED
                yield (
                    f"{i + 1}\t{'certificate' if i % 10 < 3 else 'accreditation'}\t{7700000000 + i}\t"
                    f"{self.day(-self.doctor_issued[i])}\t{self.day(-self.doctor_issued[i] + YEARS5)}\t{now}\t"
                    f"{i + 1}\t{self.doctor_specialties[i][0]}\t{window}\t{days_90}\t{hours}"
                )

        self.copy(
            "learning_plan_accreditationdocument",
            "id, kind, number, issued_on, expires_on, created_at, doctor_id, specialty_id, window_reminded, "
            "days_90_reminded, hours_short_next_on",
            documents(),
        )
        # two in three doctors keep a cycle (the register says over 300,000 of 450,000)
        self.copy(
            "learning_plan_cycle",
            "starts_on, ends_on, created_at, doctor_id, specialty_id, rule_id, document_id",
            (
                f"{self.day(-self.doctor_issued[i])}\t{self.day(-self.doctor_issued[i] + YEARS5)}\t{now}\t{i + 1}\t"
                f"{self.doctor_specialties[i][0]}\t{self.rule_id}\t{i + 1}"
                for i in range(c.doctors)
                if i % 3 != 2
            ),
        )

        def programmes() -> Iterator[str]:
            for i in range(c.doctors):
                if i % 3 == 0 or i == 0:
                    for k in range(3 if i == 0 else 1):
                        starts = self.day(-self.doctor_issued[i] + 100 + 200 * k)
                        yield (
                            f"Повышение квалификации: {TOPICS[(i + k) % len(TOPICS)]}\tМедицинский университет\t36\t"
                            f"{starts}\t{starts + 10 * DAY}\tПК-{i}-{k}\t{now}\t{i + 1}\t"
                            f"{self.doctor_specialties[i][0]}"
                        )

        self.copy(
            "learning_plan_programmeentry",
            "name, organization, hours, starts_on, ends_on, document_number, created_at, doctor_id, specialty_id",
            programmes(),
        )
        # a portfolio for half the doctors whose filing window is open (the document expires within 12 months)
        window = [i for i in range(c.doctors) if self.doctor_issued[i] >= YEARS5 - 365 and i % 2 == 0]
        if 0 not in window:
            window.insert(0, 0)
        self.copy(
            "learning_plan_portfolio",
            "id, agreement, agreement_not_needed, agreement_reason, agreement_on, filing, filed_on, outcome_on, "
            "outcome_note, updated_at, doctor_id, document_id",
            (
                f"{n + 1}\t{'agreed' if i % 4 == 0 else 'not_recorded'}\t\t\t\\N\tpreparing\t\\N\t\\N\t\t{now}\t"
                f"{i + 1}\t{i + 1}"
                for n, i in enumerate(window)
            ),
        )
        sections = ["organization", "unit", "experience", "duties", "work", "development", "proposals"]
        text = "Работаю врачом-психиатром в отделении; веду приём, консультирую, участвую в разборах. " * 8
        self.copy(
            "learning_plan_reportsection",
            "section, text, updated_at, portfolio_id",
            (f"{section}\t{text}\t{now}\t{n + 1}" for n, i in enumerate(window) if n % 2 == 0 for section in sections),
        )

        # the reminders sent on the days before today (the daily run leaves only today's crossings due)
        def reminders() -> Iterator[str]:
            for i in range(c.doctors):
                left = YEARS5 - self.doctor_issued[i]  # days until the document expires
                if 90 < left <= 364:
                    yield f"window_open\t{now}\t{i + 1}\t{i + 1}"
                if 0 < left <= 89:
                    yield f"days_90\t{now}\t{i + 1}\t{i + 1}"
                if 0 < left <= 179:
                    yield f"hours_short\t{now}\t{i + 1}\t{i + 1}"

        self.copy("learning_plan_portfolioreminder", "kind, sent_at, doctor_id, document_id", reminders())
        self.copy(
            "ministry_sync_ministrylink",
            "login, state, reason, specialist_id, cycles, attempts, requested_at, linked_at, doctor_id, "
            "records_read_at",
            (
                f"login{i + 1}\tlinked\t\t{i + 1}\t[]\t1\t{now}\t{now}\t{i + 1}\t\\N"
                for i in range(c.doctors)
                if i % 5 < 3
            ),
        )
        self.built.ids["d0_specialty"] = PSYCHIATRY

    def societies(self) -> None:
        c, rng = self.c, self.rng
        now = str(self.now)
        body = "Уважаемые коллеги! Приглашаем принять участие. " * 20
        today = self.today

        def announcements() -> Iterator[tuple[object, ...]]:
            for a in range(c.announcements):
                # spread over five years, the last ones in the week before this Monday (the digest reads them)
                days = a * YEARS5 // c.announcements if a >= 10 else 1 + today.weekday() + a % 7
                published = self.now - timedelta(days=days, hours=a % 24)
                society = a % c.societies + 1
                withdrawn = str(published + DAY) if a % 50 == 49 else None
                yield (a + 1, f"Объявление № {a + 1}", body, str(published), a % 40 == 0, withdrawn, now, now,
                       self.first_admin + society - 1, society)  # fmt: skip

        self.copy(
            "societies_announcement",
            "id, title, body, published_at, pinned, withdrawn_at, created_at, updated_at, created_by_id, society_id",
            lines(announcements()),
        )
        self.copy(
            "societies_announcement_specialties",
            "announcement_id, specialty_id",
            (
                f"{a + 1}\t{s}"
                for a in range(c.announcements)
                for s in self.society_specialties[a % c.societies + 1][: 1 + a % 3]
            ),
        )
        self.copy(
            "societies_digestsubscription",
            "created_at, doctor_id",
            (f"{now}\t{i + 1}" for i in range(c.doctors) if i % 50 == 7),
        )
        surveys = []
        for s in range(c.surveys):
            society = 1 if s == c.surveys - 1 else s % c.societies + 1  # the open one asks psychiatrists
            opens = self.day(-30 * (c.surveys - s))
            closes = opens + 60 * DAY
            status = "open" if closes >= self.today else "closed"
            surveys.append((s + 1, society, opens, closes, status))
        self.copy(
            "societies_survey",
            "id, title, intro, opens_on, closes_on, status, results_published_at, created_at, created_by_id, "
            "society_id",
            lines(
                (
                    pk,
                    f"Опрос образовательных потребностей № {pk}",
                    "Ответьте, пожалуйста, на вопросы.",
                    opens,
                    closes,
                    status,
                    now if status == "closed" else None,
                    now,
                    self.first_admin + society - 1,
                    society,
                )
                for pk, society, opens, closes, status in surveys
            ),
        )
        self.copy(
            "societies_survey_specialties",
            "survey_id, specialty_id",
            (f"{pk}\t{sp}" for pk, society, *_ in surveys for sp in self.society_specialties[society]),
        )
        kinds = ["single", "multiple", "scale", "text", "single", "case"]
        questions = [(s * 6 + q + 1, s + 1, q, kinds[q]) for s in range(c.surveys) for q in range(6)]
        self.copy(
            "societies_question",
            'id, "order", kind, text, required, survey_id',
            (f"{pk}\t{q}\t{kind}\tВопрос {q + 1}\t{'t' if q < 3 else 'f'}\t{s}" for pk, s, q, kind in questions),
        )
        options = {}
        option_rows: list[str] = []
        for pk, _s, _q, kind in questions:
            if kind in ("single", "multiple"):
                options[pk] = [len(option_rows) + k + 1 for k in range(4)]
                option_rows += [f"{len(option_rows) + k + 1}\t{k}\tВариант {k + 1}\t{pk}" for k in range(4)]
        self.copy("societies_option", 'id, "order", text, question_id', option_rows)
        respondents = max(10, round(5_000 * c.scale))
        step = coprime_stride(self.doctor_pool, rng)
        self.copy(
            "societies_surveyparticipation",
            "doctor_id, survey_id",
            (
                f"{1 + (s * 7919 + r * step) % self.doctor_pool + 1}\t{s + 1}"
                for s in range(c.surveys)
                for r in range(min(respondents, self.doctor_pool))
            ),
        )

        def answer_sets() -> Iterator[str]:
            for s in range(c.surveys):
                for r in range(min(respondents, self.doctor_pool)):
                    yield f"5e7a0000-0000-4000-8000-{s:04x}{r:08x}\t{self.psychiatry}\t{s + 1}"

        self.copy("societies_answerset", "id, specialty_id, survey_id", answer_sets())

        def answers() -> Iterator[str]:
            n = 0
            for s in range(c.surveys):
                for r in range(min(respondents, self.doctor_pool)):
                    answer_set = f"5e7a0000-0000-4000-8000-{s:04x}{r:08x}"
                    for q in range(6):
                        n += 1
                        pk = s * 6 + q + 1
                        kind = kinds[q]
                        key = f"a0000000-0000-4000-8000-{n:012x}"
                        if kind in ("single", "multiple"):
                            yield f"{key}\t\\N\t\t{answer_set}\t{options[pk][(r + q) % 4]}\t{pk}\t{s + 1}"
                        elif kind == "scale":
                            yield f"{key}\t{1 + r % 5}\t\t{answer_set}\t\\N\t{pk}\t{s + 1}"
                        elif r % 3 == 0:
                            yield f"{key}\t\\N\tНужны разборы трудных случаев.\t{answer_set}\t\\N\t{pk}\t{s + 1}"

        # survey_id: the response's survey, as surveys.survey_answer writes it
        self.copy("societies_answer", "id, number, text, answer_set_id, option_id, question_id, survey_id", answers())
        self.built.ids["survey"] = surveys[-1][0]  # open: its closing day is ahead
        self.built.ids["results_survey"] = surveys[0][0]

    def statuses(self) -> None:
        c, rng = self.c, self.rng
        now = str(self.now)
        members = [
            (self.first_member + k, self.programme_specialties[k % len(self.programme_specialties)])
            for k in range(self.commission)
        ]
        self.copy(
            "statuses_commissionmember",
            "employer_inn, appointed_at, retired_at, specialty_id, user_id, programme_id",
            (f"7700000001\t{now}\t\\N\t{specialty}\t{user}\t{self.programme_id}" for user, specialty in members),
        )
        self.built.ids["commission_member"] = members[0][0]
        stride = coprime_stride(self.doctor_pool, rng)
        n = min(c.applications, self.doctor_pool)
        apps = []
        for a in range(n):
            doctor = 1 + (a * stride) % self.doctor_pool + 1
            roll = a % 10
            state = ["open", "awarded", "awarded", "awarded", "awarded", "awarded", "failed", "failed", "refused",
                     "withdrawn"][roll]  # fmt: skip
            submitted = self.now - timedelta(days=30 if state == "open" else 200 + a % 1500)
            specialty = self.programme_specialties[a % len(self.programme_specialties)]
            apps.append((a + 1, state, submitted, doctor, specialty))
        self.copy(
            "statuses_statusapplication",
            "id, state, public_consent, snapshot, employer_inns, submitted_at, closed_at, decision_comment, "
            "decided_by_id, doctor_id, renews_id, specialty_id, programme_id",
            (
                f'{pk}\t{state}\tt\t{{}}\t["7700000001"]\t{submitted}\t'
                f"{NULL if state == 'open' else submitted + 60 * DAY}\t\t"
                f"{members[0][0] if state in ('awarded', 'refused') else NULL}\t{doctor}\t\\N\t{specialty}\t"
                f"{self.programme_id}"
                for pk, state, submitted, doctor, specialty in apps
            ),
        )

        def results() -> Iterator[str]:
            for pk, state, submitted, _doctor, _specialty in apps:
                stages = 1 if state == "open" else len(self.stages)
                for k in range(stages):
                    held = (submitted + (20 + 10 * k) * DAY).date()
                    recorded = str(submitted + (21 + 10 * k) * DAY)
                    passed = "f" if state == "failed" and k == stages - 1 else "t"
                    yield (
                        f"{submitted + (20 + 10 * k) * DAY}\tМосква\t{80 if passed == 't' else 40}\t{passed}\t{held}\t"
                        f"\t{recorded}\t{members[0][0]}\t{self.stages[k]}\t{pk}"
                    )

        self.copy(
            "statuses_stageresult",
            "scheduled_at, place, score, passed, held_on, comment, recorded_at, recorded_by_id, stage_id, "
            "application_id",
            results(),
        )
        awarded = [app for app in apps if app[1] == "awarded"]
        statuses = []
        for k, (pk, _state, submitted, doctor, specialty) in enumerate(awarded):
            on = (submitted + 60 * DAY).date()
            # spread the awards so that some statuses expire soon (the reminders)
            on = self.today - timedelta(days=k * (self.validity_years * 365) // max(len(awarded), 1))
            statuses.append((k + 1, on, on + timedelta(days=self.validity_years * 365), doctor, specialty, pk))
        self.copy(
            "statuses_status",
            "id, number, check_token, awarded_on, expires_on, public_consent, revoked_at, revoke_reason, doctor_id, "
            "revoked_by_id, specialty_id, application_id, programme_id",
            (
                f"{k}\tМВ-{k:06d}\t{verify_token(10**9 + k)}\t{on}\t{off}\tt\t\\N\t\t{doctor}\t\\N\t{specialty}\t{pk}\t"
                f"{self.programme_id}"
                for k, on, off, doctor, specialty, pk in statuses
            ),
        )
        self.copy(
            "statuses_statusreminder",
            "days, sent_at, status_id",
            (
                f"{days}\t{now}\t{k}"
                for k, _on, off, *_ in statuses
                for days in (180, 30)
                if 0 < (off - self.today).days < days - 1
            ),
        )


def reset_sequences(conn: psycopg.Connection[Any]) -> None:
    """Each filled table's id sequence past its largest id, as if the rows had been inserted one by one."""
    for table in TABLES:
        sequence = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table]).fetchone()
        if sequence and sequence[0]:
            conn.execute(
                f"SELECT setval(%s, GREATEST((SELECT max(id) FROM {table}), 1))",  # noqa: S608
                [sequence[0]],
            )


@dataclass
class Definitions:
    """What is dropped around the COPY, to be created again: (table, name, definition)."""

    foreign_keys: list[tuple[str, str, str]]
    constraints: list[tuple[str, str, str]]
    indexes: list[tuple[str, str, str]]


def drop_secondary(conn: psycopg.Connection[Any]) -> Definitions:
    tables = list(TABLES)
    fks = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND (conrelid::regclass::text = ANY(%s) OR confrelid::regclass::text = ANY(%s))",
        [tables, tables],
    ).fetchall()
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype IN ('u', 'x') AND conrelid::regclass::text = ANY(%s)",
        [tables],
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indrelid::regclass::text, c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [tables],
    ).fetchall()
    for table, name, _definition in fks + constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT IF EXISTS "{name}"')
    for _table, name, _definition in indexes:
        conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return Definitions(fks, constraints, indexes)


def create_secondary(
    conn: psycopg.Connection[Any], definitions: Definitions, log: Callable[[str], None]
) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for kind, rows in (("index", definitions.indexes), ("constraint", definitions.constraints)):
        for table, name, definition in rows:
            began = time.perf_counter()
            if kind == "index":
                conn.execute(definition)
            else:
                conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            seconds[name] = time.perf_counter() - began
    began = time.perf_counter()
    for table, name, definition in definitions.foreign_keys:
        conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    seconds["foreign keys"] = time.perf_counter() - began
    slow = sorted(seconds.items(), key=lambda item: -item[1])[:5]
    log("  slowest to create again: " + ", ".join(f"{name} {s:.1f} s" for name, s in slow))
    return seconds
