"""The research export's files and its REDCap data dictionary, worked out by hand from one small course.

The course starts on day S; a visit on S+2 is cancelled, treatments are given on S+7, S+21 and S+35 (pain
before them 7, 5 and 3), an assessment on S+28 is not a treatment, a visit is booked for S+49. So the first
treatment is day 0, the treatments are numbered 1, 2, 3 and the booked visit 4 (courses.timeline).
"""

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clinic import roles
from clinic.choices import BodyRegion, Laterality
from courses.models import (
    CourseStatus,
    OutcomeInstrument,
    Product,
    SessionStatus,
    SideEffect,
    SideEffectTerm,
    Timepoint,
)
from courses.session_services import anaesthetic_strengths, preparation_strengths
from outcomes import exports, reports
from tests.factories import (
    InjectionFactory,
    InjectionSiteFactory,
    LotFactory,
    OutcomeScoreFactory,
    PreparationComponentFactory,
    ProductFactory,
    SideEffectFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
    UserFactory,
)
from tests.outcomes.conftest import ClinicBuilder, build_clinic

FORMULA = '=HYPERLINK("https://evil.example","Open")'
REDCAP_NAME = re.compile(r"[a-z][a-z0-9_]*")
REDCAP_CODE = re.compile(r"[a-z0-9_]+")


def rows_of(response):
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def records(rows):
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def export(client, level, **filters):
    return records(rows_of(client.get(reverse("outcomes:research-export"), {"level": level, **filters})))


def product(name, kind, stock):
    return ProductFactory(name=name, product_type=kind, stock_concentration_percent=Decimal(stock))


def mix(session, *parts):
    for made, volume in parts:
        PreparationComponentFactory(session=session, lot=LotFactory(product=made), volume_ml=Decimal(volume))


class Course:
    """The course of the module docstring, with its rows by name."""

    made = 0

    def __init__(self, practitioner, *, names=None):
        names = names or {}
        # Each course's visits at their own time of day: a practitioner is in one place at a time.
        Course.made += 1
        self.time = datetime.time(8 + Course.made % 9, 0)
        self.start = timezone.localdate() - datetime.timedelta(days=200)
        self.course = TreatmentCourseFactory(
            practitioner=practitioner,
            status=CourseStatus.ACTIVE,
            start_date=self.start,
            outcome_instrument=OutcomeInstrument.objects.get(code="KOOS"),
            baseline_instrument_score=Decimal("40"),
        )
        self.visits = {}
        self.visit("cancelled", 2, 1, status=SessionStatus.CANCELLED, cancel_reason="Unwell")
        self.visit("t1", 7, 1, completed=True, pain_pre=7, final_dextrose_percent=Decimal("30"))
        self.visit("t2", 21, 2, completed=True, pain_pre=5, final_dextrose_percent=Decimal("15"))
        self.visit("assessment", 28, 3, completed=True, pain_pre=4, assessment_only=True)
        self.visit("t3", 35, 3, completed=True, pain_pre=3)
        self.visit("booked", 49, 4)

        nrs, koos = (OutcomeInstrument.objects.get(code=code) for code in ("NRS", "KOOS"))
        self.score(nrs, 8, 1, Timepoint.BASELINE, "clinic")
        self.score(nrs, 4, 21, Timepoint.BETWEEN, "patient")
        self.score(koos, "55.5", 77, Timepoint.WEEK_6, "phone")
        self.score(nrs, 1, 60, Timepoint.WEEK_6, "clinic").void(by=practitioner, reason="Wrong course")

        lidocaine = product(names.get("lidocaine", "Lidocaine 1%"), Product.ProductType.ANAESTHETIC, "1")
        bupivacaine = product("Bupivacaine 0.5%", Product.ProductType.ANAESTHETIC, "0.5")
        dextrose = product("Dextrose 50%", Product.ProductType.DEXTROSE, "50")
        saline = product("Saline 0.9%", Product.ProductType.DILUENT, "0.9")
        # T1: 1 mL lidocaine 1 % + 1 mL bupivacaine 0.5 % + 3 mL dextrose 50 %: 0.2 %, 0.1 %, 30 %.
        mix(self.visits["t1"], (lidocaine, "1"), (bupivacaine, "1"), (dextrose, "3"))
        # T2: 2 mL lidocaine + 3 mL dextrose + 5 mL saline: lidocaine 0.2 %, dextrose 15 %.
        mix(self.visits["t2"], (lidocaine, "2"), (dextrose, "3"), (saline, "5"))

        self.mcl = InjectionSiteFactory(region=BodyRegion.KNEE, name=names.get("site", "MCL femoral"))
        self.pes = InjectionSiteFactory(region=BodyRegion.KNEE, name="Pes anserine")
        self.facet = InjectionSiteFactory(
            region=BodyRegion.LUMBAR_PELVIS, name="Facet capsule", needs_spinal_level=True
        )
        InjectionFactory(session=self.visits["t1"], site=self.mcl, volume_ml=Decimal("2"))
        InjectionFactory(session=self.visits["t1"], site=self.pes, volume_ml=Decimal("1.5"))
        InjectionFactory(
            session=self.visits["t2"],
            site=self.facet,
            laterality=Laterality.MIDLINE,
            spinal_level="L4–L5",
            volume_ml=Decimal("3"),
        )
        InjectionFactory(session=self.visits["t3"], site=self.mcl, laterality=Laterality.LEFT, volume_ml=1)
        stray = InjectionFactory(session=self.visits["t3"], site=self.pes)
        stray.void(by=practitioner, reason="Entered twice")

        bruising = SideEffectTermFactory(
            name=names.get("term", "Bruising"), category=SideEffectTerm.Category.LOCAL
        )
        syncope = SideEffectTermFactory(name="Vasovagal syncope", category=SideEffectTerm.Category.PROCEDURAL)
        self.bruise = SideEffectFactory(
            attributed_session=self.visits["t2"],
            term=bruising,
            onset_date=self.day(22),
            resolved_date=self.day(25),
            relatedness=SideEffect.Relatedness.RELATED,
            site=self.mcl,
        )
        self.faint = SideEffectFactory(
            attributed_session=self.visits["t3"],
            term=syncope,
            severity=3,
            serious=True,
            serious_criterion=SideEffect.SeriousCriterion.HOSPITALISATION,
            onset_date=self.day(36),
        )
        wrong = SideEffectFactory(
            attributed_session=self.visits["t3"], term=bruising, onset_date=self.day(35)
        )
        wrong.void(by=practitioner, reason="Wrong patient")

    def day(self, offset):
        return self.start + datetime.timedelta(days=offset)

    def visit(self, name, offset, sequence, **fields):
        moment = timezone.make_aware(datetime.datetime.combine(self.day(offset), self.time))
        self.visits[name] = TreatmentSessionFactory(
            course=self.course,
            sequence=sequence,
            starts_at=moment,
            ends_at=moment + datetime.timedelta(minutes=30),
            **fields,
        )

    def score(self, instrument, value, offset, timepoint, source):
        return OutcomeScoreFactory(
            course=self.course,
            instrument=instrument,
            score=Decimal(value),
            recorded_on=self.day(offset),
            timepoint=timepoint,
            source=source,
        )

    @property
    def key(self):
        return exports.pseudonym("course", self.course.pk)


@pytest.fixture
def course(practitioner):
    return Course(practitioner)


def mine(rows, course):
    return [row for row in rows if row["course_key"] == course.key]


def test_the_score_file_has_every_score_and_each_treatments_pain_by_day_from_the_first_treatment(
    clinic_admin, client_for, course
):
    rows = mine(export(client_for(clinic_admin), "scores"), course)

    assert [
        (r["score_instrument"], r["score_day"], r["score_value"], r["score_source"], r["score_timepoint"])
        for r in rows
    ] == [
        ("NRS", "-6", "8", "staff", "baseline"),
        ("NRS", "0", "7", "staff", "session"),  # the first treatment's pain: the baseline
        ("NRS", "14", "5", "staff", "session"),
        ("NRS", "14", "4", "patient", "between"),  # the same day: after the pre-injection score
        ("NRS", "28", "3", "staff", "session"),  # the assessment (day 21) is no treatment: no row
        ("KOOS", "70", "55.5", "staff", "w6"),  # by phone; the voided NRS 1 is left out
    ]
    assert [r["redcap_repeat_instance"] for r in rows] == ["1", "2", "3", "4", "5", "6"]
    assert {r["redcap_repeat_instrument"] for r in rows} == {"scores"}


def test_a_course_without_a_treatment_has_its_scores_without_a_day(clinic_admin, client_for, practitioner):
    planned = TreatmentCourseFactory(practitioner=practitioner, status=CourseStatus.PLANNED)
    OutcomeScoreFactory(
        course=planned,
        instrument=OutcomeInstrument.objects.get(code="NRS"),
        score=6,
        timepoint=Timepoint.BASELINE,
        recorded_on=planned.start_date,
    )

    (row,) = export(client_for(clinic_admin), "scores")
    assert (row["score_day"], row["score_value"], row["score_timepoint"]) == ("", "6", "baseline")


def test_the_side_effect_file_has_each_current_event_with_its_treatment_number(
    clinic_admin, client_for, course
):
    rows = mine(export(client_for(clinic_admin), "side_effects"), course)

    assert [
        {k: v for k, v in r.items() if k not in ("course_key", "redcap_repeat_instrument")} for r in rows
    ] == [
        {
            "redcap_repeat_instance": "1",
            "event_key": exports.pseudonym("side_effect", course.bruise.pk),
            "term": "Bruising",
            "category": "local",
            "grade": "1",
            "serious": "0",
            "serious_criterion": "",
            "relatedness": "related",
            "onset_day": "15",
            "resolution_day": "18",
            "attributed_treatment": "2",
            "site_region": "knee",
        },
        {
            "redcap_repeat_instance": "2",
            "event_key": exports.pseudonym("side_effect", course.faint.pk),
            "term": "Vasovagal syncope",
            "category": "procedural",
            "grade": "3",
            "serious": "1",
            "serious_criterion": "hospitalisation",
            "relatedness": "possibly",
            "onset_day": "29",
            "resolution_day": "",
            "attributed_treatment": "3",
            "site_region": "",
        },
    ]


def test_the_injection_file_gives_each_anaesthetic_its_own_strength(clinic_admin, client_for, course):
    rows = mine(export(client_for(clinic_admin), "injections"), course)
    columns = (
        "treatment_number",
        "injection_day",
        "site",
        "site_id",
        "region",
        "injection_laterality",
        "spinal_level",
        "volume_ml",
        "injection_dextrose_percent",
        "anaesthetic_agents",
        "anaesthetic_1_agent",
        "anaesthetic_1_percent",
        "anaesthetic_2_agent",
        "anaesthetic_2_percent",
        "anaesthetic_3_agent",
    )

    assert [tuple(r[c] for c in columns) for r in rows] == [
        # T1: 1 mL lidocaine 1 % + 1 mL bupivacaine 0.5 % + 3 mL dextrose 50 % = 5 mL.
        ("1", "0", "MCL femoral", str(course.mcl.pk), "knee", "right", "", "2", "30", "2",
         "Bupivacaine 0.5%", "0.1", "Lidocaine 1%", "0.2", ""),
        ("1", "0", "Pes anserine", str(course.pes.pk), "knee", "right", "", "1.5", "30", "2",
         "Bupivacaine 0.5%", "0.1", "Lidocaine 1%", "0.2", ""),
        # T2: 2 mL lidocaine 1 % in 10 mL.
        ("2", "14", "Facet capsule", str(course.facet.pk), "lumbar_pelvis", "midline", "L4-L5", "3", "15",
         "1", "Lidocaine 1%", "0.2", "", "", ""),
        # T3: no mix recorded; its voided injection is left out.
        ("3", "28", "MCL femoral", str(course.mcl.pk), "knee", "left", "", "1", "", "0", "", "", "", "", ""),
    ]  # fmt: skip
    assert [r["redcap_repeat_instance"] for r in rows] == ["1", "2", "3", "4"]


def test_per_agent_strengths_follow_the_preparation_rule_and_are_never_added_up(db):
    lidocaine = product("Lidocaine 1%", Product.ProductType.ANAESTHETIC, "1")
    bupivacaine = product("Bupivacaine 0.5%", Product.ProductType.ANAESTHETIC, "0.5")
    dextrose = product("Dextrose 50%", Product.ProductType.DEXTROSE, "50")
    components = [
        PreparationComponentFactory.build(lot=LotFactory(product=made), volume_ml=Decimal(volume))
        for made, volume in ((lidocaine, "1"), (bupivacaine, "1"), (dextrose, "3"))
    ]

    assert anaesthetic_strengths(components) == {
        "Lidocaine 1%": Decimal("0.2"),
        "Bupivacaine 0.5%": Decimal("0.1"),
    }
    # The single anaesthetic figure is the strongest agent's own, never their sum.
    assert preparation_strengths(components).final_anaesthetic_percent == Decimal("0.2")
    assert anaesthetic_strengths([]) == {}


def test_a_fourth_agent_is_counted_and_the_first_three_fill_the_slots(clinic_admin, client_for, practitioner):
    session = TreatmentSessionFactory(completed=True, course__practitioner=practitioner)
    agents = [product(f"Agent {letter}", Product.ProductType.ANAESTHETIC, "1") for letter in "DCBA"]
    mix(session, *((agent, "1") for agent in agents))
    InjectionFactory(session=session)

    (row,) = export(client_for(clinic_admin), "injections")
    assert row["anaesthetic_agents"] == "4"
    assert [row[f"anaesthetic_{slot}_agent"] for slot in (1, 2, 3)] == ["Agent A", "Agent B", "Agent C"]
    assert [row[f"anaesthetic_{slot}_percent"] for slot in (1, 2, 3)] == ["0.25"] * 3


def test_the_course_and_session_files_start_with_the_record_id(clinic_admin, client_for, course):
    client = client_for(clinic_admin)
    (row,) = export(client, "courses")
    sessions = mine(export(client, "sessions"), course)

    assert list(row)[:2] == ["course_key", "patient_key"]
    assert row["course_key"] == course.key
    # Days from the first treatment (day 7 of the course), as in every other file.
    assert [(s["sequence"], s["day"], s["session_status"]) for s in sessions] == [
        ("1", "-5", "cancelled"),
        ("1", "0", "completed"),
        ("2", "14", "completed"),
        ("3", "21", "completed"),
        ("3", "28", "completed"),
        ("4", "42", "scheduled"),
    ]
    assert [s["redcap_repeat_instance"] for s in sessions] == ["1", "2", "3", "4", "5", "6"]


def test_every_file_respects_the_dashboard_filters(clinic_admin, client_for, course, practitioner):
    other = Course(practitioner)
    other.course.start_date = course.start - datetime.timedelta(days=30)
    other.course.save()
    client = client_for(clinic_admin)

    for export_file in exports.FILES:
        everything = {row["course_key"] for row in export(client, export_file.name)}
        filtered = {row["course_key"] for row in export(client, export_file.name, start_from=course.start)}
        assert everything == {course.key, other.key}, export_file.name
        assert filtered == {course.key}, export_file.name


# --- The REDCap dictionary, and every file read back against it ------------------------------------------


def redcap_dictionary(client):
    response = client.get(reverse("outcomes:data-dictionary-redcap"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert tuple(rows[0]) == exports.REDCAP_HEADER
    assert len(rows[0]) == 18
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_redcap_dictionary_follows_redcaps_rules(clinic_admin, client_for):
    fields = redcap_dictionary(client_for(clinic_admin))
    names = [f["Variable / Field Name"] for f in fields]
    forms = [f["Form Name"] for f in fields]

    assert (names[0], forms[0], fields[0]["Field Type"]) == ("course_key", "courses", "text")
    assert len(names) == len(set(names)), "REDCap variable names are unique across the project"
    assert all(REDCAP_NAME.fullmatch(name) and len(name) <= 26 for name in names), names
    # Each form's fields are contiguous, in the files' order.
    assert list(dict.fromkeys(forms)) == [export_file.name for export_file in exports.FILES]
    assert forms == sorted(forms, key=[e.name for e in exports.FILES].index)
    for field in fields:
        kind = field["Field Type"]
        assert kind in ("text", "radio", "dropdown", "yesno"), field
        assert field["Text Validation Type OR Show Slider Number"] in ("", "integer", "number")
        choices = field["Choices, Calculations, OR Slider Labels"]
        if kind in ("radio", "dropdown"):
            codes = [choice.split(",", 1)[0].strip() for choice in choices.split(" | ")]
            assert all(REDCAP_CODE.fullmatch(code) for code in codes), field
        else:
            assert choices == "", field
    assert "redcap_repeat_instrument" not in names


def choices(field):
    if field["Field Type"] == "yesno":
        return {"0", "1"}
    text = field["Choices, Calculations, OR Slider Labels"]
    return {choice.split(",", 1)[0].strip() for choice in text.split(" | ")}


def check_value(field, value):
    if value == "":
        return
    if field["Field Type"] in ("radio", "dropdown", "yesno"):
        assert value in choices(field), (field["Variable / Field Name"], value)
        return
    validation = field["Text Validation Type OR Show Slider Number"]
    if validation == "integer":
        number = Decimal(int(value))
    elif validation == "number":
        number = Decimal(value)
    else:
        return
    if field["Text Validation Min"]:
        assert number >= Decimal(field["Text Validation Min"]), (field["Variable / Field Name"], value)
    if field["Text Validation Max"]:
        assert number <= Decimal(field["Text Validation Max"]), (field["Variable / Field Name"], value)


def test_every_file_reads_back_against_the_redcap_dictionary(clinic_admin, client_for, course, clinic_data):
    client = client_for(clinic_admin)
    fields = redcap_dictionary(client)
    by_form = {}
    for field in fields:
        by_form.setdefault(field["Form Name"], {})[field["Variable / Field Name"]] = field
    record_id = fields[0]

    for export_file in exports.FILES:
        rows = rows_of(client.get(reverse("outcomes:research-export"), {"level": export_file.name}))
        header, body = rows[0], rows[1:]
        assert body, export_file.name
        assert header[0] == record_id["Variable / Field Name"]
        own = header[1:]
        if export_file.name != "courses":
            assert own[:2] == ["redcap_repeat_instrument", "redcap_repeat_instance"]
            own = own[2:]
        else:
            own = header
        # Every column is a variable of this file's form, and every variable of the form is a column.
        assert own == list(by_form[export_file.name]), export_file.name
        instances = set()
        for row in body:
            values = dict(zip(header, row, strict=True))
            for name in own:
                check_value(by_form[export_file.name][name], values[name])
            if export_file.name != "courses":
                assert values["redcap_repeat_instrument"] == export_file.name
                instance = (values["course_key"], int(values["redcap_repeat_instance"]))
                assert instance[1] >= 1 and instance not in instances
                instances.add(instance)


def test_the_dictionary_page_lists_every_column_of_every_file(clinic_admin, client_for):
    text = client_for(clinic_admin).get(reverse("outcomes:data-dictionary")).content.decode()
    sections = text.split("<h2")[1:]

    assert len(sections) == len(exports.FILES)
    for section, export_file in zip(sections, exports.FILES, strict=True):
        assert f"<code>{export_file.name}</code>" in section
        for column in export_file.columns:
            assert f"<code>{column.name}</code>" in section, (export_file.name, column.name)
    assert reverse("outcomes:data-dictionary-redcap") in text


def test_the_export_page_offers_each_file_and_the_dictionaries(clinic_admin, client_for, course):
    response = client_for(clinic_admin).get(reverse("outcomes:research-export"), {"status": "active"})
    text = response.content.decode()

    for export_file in exports.FILES:
        assert escape(export_file.description) in text
        assert f"?status=active&amp;level={export_file.name}" in text
    assert reverse("outcomes:data-dictionary") in text
    assert reverse("outcomes:data-dictionary-redcap") in text


# --- Spreadsheets, permissions, queries -------------------------------------------------------------------


def test_catalogue_names_reach_every_file_as_text_never_as_a_formula(clinic_admin, client_for, practitioner):
    hostile = Course(practitioner, names={"term": FORMULA, "site": "@SUM(1+1)", "lidocaine": "+Lidocaine"})
    client = client_for(clinic_admin)

    cells = []
    for export_file in exports.FILES:
        cells += [
            value
            for row in rows_of(client.get(reverse("outcomes:research-export"), {"level": export_file.name}))
            for value in row
        ]
    for value in cells:
        assert not value.startswith(("=", "+", "@", "\t", "\r")), value
        assert not value.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", value), value
    assert "'" + FORMULA in cells
    assert "'@SUM(1+1)" in cells
    assert "'+Lidocaine" in cells
    assert mine(export(client, "scores"), hostile)[0]["score_day"] == "-6"


@pytest.mark.parametrize("persona", ["practitioner", "front_desk", "stranger"])
@pytest.mark.parametrize("level", [export_file.name for export_file in exports.FILES])
def test_only_a_role_that_may_export_research_gets_a_file(request, client_for, course, persona, level):
    from auditlog.models import LogEntry

    user = request.getfixturevalue(persona)
    assert not user.has_perm("courses.export_research")
    client = client_for(user)

    assert client.get(reverse("outcomes:research-export"), {"level": level}).status_code == 403
    assert client.get(reverse("outcomes:data-dictionary-redcap")).status_code == 403
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_a_practitioner_given_the_permission_exports_their_own_courses_only(client_for, course, practitioner):
    from django.contrib.auth.models import Permission

    Course(UserFactory(role=roles.PRACTITIONER))
    practitioner.user_permissions.add(Permission.objects.get(codename="export_research"))
    client = client_for(practitioner)

    for export_file in exports.FILES:
        assert {row["course_key"] for row in export(client, export_file.name)} == {course.key}


def test_each_file_runs_the_same_number_of_queries_as_data_grows(clinic_admin, client_for, practitioner):
    client = client_for(clinic_admin)
    builder = ClinicBuilder()
    Course(practitioner)
    build_clinic(practitioner, builder)
    client.get(reverse("outcomes:research-export"))  # warm the session and permission caches

    def queries(level):
        caches[reports.ALIAS].clear()
        with CaptureQueriesContext(connection) as captured:
            assert rows_of(client.get(reverse("outcomes:research-export"), {"level": level}))
        return len(captured.captured_queries)

    small = {export_file.name: queries(export_file.name) for export_file in exports.FILES}
    for _ in range(2):
        Course(practitioner)
        build_clinic(practitioner, builder)
    large = {export_file.name: queries(export_file.name) for export_file in exports.FILES}

    assert large == small
    # Seven for the request (session, user, devices, perms, report version, scope, the access log), a
    # savepoint pair (and PostgreSQL's JIT switch), the course ids and the file's own queries per chunk.
    assert max(small.values()) <= 14, small


def test_a_long_file_reads_its_courses_a_chunk_at_a_time(clinic_admin, client_for, practitioner, monkeypatch):
    for _ in range(3):
        Course(practitioner)
    client = client_for(clinic_admin)
    client.get(reverse("outcomes:research-export"))

    def queries():
        caches[reports.ALIAS].clear()
        with CaptureQueriesContext(connection) as captured:
            rows = export(client, "injections")
        return len(captured.captured_queries), len(rows)

    one_chunk, rows = queries()
    monkeypatch.setattr(exports, "CHUNK", 1)
    three_chunks, same_rows = queries()
    assert same_rows == rows == 12
    # Each further chunk adds its visits, mixes and injections: three queries.
    assert three_chunks == one_chunk + 2 * 3


@pytest.mark.parametrize(
    ("typed", "exported"),
    [
        ("L4–L5", "L4-L5"),
        ("l5-s1", "L5-S1"),
        ("C5/6", "C5-C6"),
        ("T12", "T12"),
        ("", ""),
        ("Mrs Jones L4", "other"),
        ("=HYPERLINK(1)", "other"),
        ("L9", "other"),
    ],
)
def test_the_spinal_level_is_exported_as_a_level_never_as_typed_text(typed, exported):
    from outcomes.exports import spinal_level_code

    assert spinal_level_code(typed) == exported
