"""Factories for every model. Catalogue factories reuse the rows seeded by migrations where they exist."""

import datetime
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from clinic.choices import BodyRegion, Laterality
from clinic.models import User
from courses import models as courses
from patients.models import Consent, Patient, Screening
from patients.services import mrn_allocate


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def role(user, create, extracted, **kwargs):
        if create and extracted:
            user.groups.add(Group.objects.get(name=extracted))


class PatientFactory(DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.LazyFunction(lambda: mrn_allocate()[0])
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_of_birth", minimum_age=25, maximum_age=85)
    sex = factory.Iterator([Patient.Sex.FEMALE, Patient.Sex.MALE])
    phone = factory.Sequence(lambda n: f"07700 {n % 1000000:06d}")
    email = factory.LazyAttribute(lambda p: f"{p.given_name.lower()}.{p.family_name.lower()}@mail.example")


class ScreeningFactory(DjangoModelFactory):
    class Meta:
        model = Screening

    patient = factory.SubFactory(PatientFactory)
    screened_on = factory.LazyFunction(timezone.localdate)
    screened_by = factory.SubFactory(UserFactory, role="Practitioner")
    outcome = Screening.Outcome.ELIGIBLE


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = Consent

    patient = factory.SubFactory(PatientFactory)
    consented_on = factory.LazyFunction(timezone.localdate)
    taken_by = factory.SubFactory(UserFactory, role="Practitioner")
    form_version = "PRO-2026-1"


class ConditionFactory(DjangoModelFactory):
    class Meta:
        model = courses.Condition
        django_get_or_create = ("name",)

    name = "Knee osteoarthritis"


class InjectionSiteFactory(DjangoModelFactory):
    class Meta:
        model = courses.InjectionSite
        django_get_or_create = ("region", "name")

    region = BodyRegion.KNEE
    name = "MCL femoral"
    structure_type = courses.InjectionSite.StructureType.LIGAMENT


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = courses.Product
        django_get_or_create = ("name",)

    name = "Dextrose 50%"
    product_type = courses.Product.ProductType.DEXTROSE
    stock_concentration_percent = Decimal("50")


class LotFactory(DjangoModelFactory):
    class Meta:
        model = courses.Lot

    product = factory.SubFactory(ProductFactory)
    lot_number = factory.Sequence(lambda n: f"LOT{n:05d}")
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=365))


class SideEffectTermFactory(DjangoModelFactory):
    class Meta:
        model = courses.SideEffectTerm
        django_get_or_create = ("name",)

    name = "Post-injection pain / flare"
    category = courses.SideEffectTerm.Category.LOCAL


class OutcomeInstrumentFactory(DjangoModelFactory):
    class Meta:
        model = courses.OutcomeInstrument
        django_get_or_create = ("code",)

    code = "NRS"
    name = "Pain NRS"
    min_score = Decimal("0")
    max_score = Decimal("10")
    mcid_absolute = Decimal("2")
    mcid_relative_percent = Decimal("30")


class TreatmentCourseFactory(DjangoModelFactory):
    class Meta:
        model = courses.TreatmentCourse

    patient = factory.SubFactory(PatientFactory)
    condition = factory.SubFactory(ConditionFactory)
    body_region = BodyRegion.KNEE
    laterality = Laterality.RIGHT
    practitioner = factory.SubFactory(UserFactory, role="Practitioner")
    planned_sessions = 6
    interval_days = 14
    baseline_pain = 7
    status = courses.CourseStatus.ACTIVE
    start_date = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=30))
    # A course the app would inject: the patient's consent, signed by the start (or today, if later).
    consent = factory.SubFactory(
        ConsentFactory,
        patient=factory.SelfAttribute("..patient"),
        consented_on=factory.LazyAttribute(lambda c: min(c.factory_parent.start_date, timezone.localdate())),
    )


def _session_start(session):
    start = datetime.datetime.combine(
        session.course.start_date
        + datetime.timedelta(days=session.course.interval_days * (session.sequence - 1)),
        datetime.time(9, 0),
    )
    return timezone.make_aware(start)


class CourseExtensionFactory(DjangoModelFactory):
    class Meta:
        model = courses.CourseExtension

    course = factory.SubFactory(TreatmentCourseFactory)
    from_sessions = factory.LazyAttribute(lambda e: e.course.planned_sessions)
    to_sessions = factory.LazyAttribute(lambda e: e.from_sessions + 2)
    reason = "Steady improvement; two more sessions to consolidate"
    created_by = factory.LazyAttribute(lambda e: e.course.practitioner)


class TreatmentSessionFactory(DjangoModelFactory):
    class Meta:
        model = courses.TreatmentSession

    course = factory.SubFactory(TreatmentCourseFactory)
    patient = factory.LazyAttribute(lambda s: s.course.patient)
    sequence = factory.Sequence(lambda n: n + 1)
    starts_at = factory.LazyAttribute(_session_start)
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(minutes=30))
    practitioner = factory.LazyAttribute(lambda s: s.course.practitioner)
    status = courses.SessionStatus.SCHEDULED

    class Params:
        completed = factory.Trait(
            status=courses.SessionStatus.COMPLETED,
            pain_pre=6,
            completed_at=factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(minutes=25)),
            completed_by=factory.LazyAttribute(lambda s: s.practitioner),
        )


class PreparationFactory(DjangoModelFactory):
    class Meta:
        model = courses.Preparation

    session = factory.SubFactory(TreatmentSessionFactory, completed=True)


def _session_preparation(component):
    """The session's first preparation (one syringe, as before a session could hold several)."""
    if component.session.pk is None:  # built, not saved
        return PreparationFactory.build(session=component.session)
    found = courses.Preparation.objects.filter(session=component.session).first()
    return found or PreparationFactory(session=component.session)


class PreparationComponentFactory(DjangoModelFactory):
    class Meta:
        model = courses.PreparationComponent

    session = factory.SubFactory(TreatmentSessionFactory, completed=True)
    preparation = factory.LazyAttribute(_session_preparation)
    lot = factory.SubFactory(LotFactory)
    volume_ml = Decimal("3")


class InjectionFactory(DjangoModelFactory):
    class Meta:
        model = courses.Injection

    session = factory.SubFactory(TreatmentSessionFactory, completed=True)
    site = factory.SubFactory(InjectionSiteFactory)
    laterality = Laterality.RIGHT
    volume_ml = Decimal("1.5")
    needle_gauge = 27


class SideEffectFactory(DjangoModelFactory):
    class Meta:
        model = courses.SideEffect

    attributed_session = factory.SubFactory(TreatmentSessionFactory, completed=True)
    reported_session = factory.LazyAttribute(lambda s: s.attributed_session)
    term = factory.SubFactory(SideEffectTermFactory)
    onset_date = factory.LazyAttribute(lambda s: s.attributed_session.starts_at.date())
    severity = courses.Severity.MILD


class OutcomeScoreFactory(DjangoModelFactory):
    class Meta:
        model = courses.OutcomeScore

    course = factory.SubFactory(TreatmentCourseFactory)
    instrument = factory.SubFactory(OutcomeInstrumentFactory)
    score = Decimal("4")
    recorded_on = factory.LazyFunction(timezone.localdate)
    timepoint = courses.Timepoint.WEEK_12


# --- scheduling ------------------------------------------------------------------------------------


class WorkingHoursFactory(DjangoModelFactory):
    class Meta:
        model = "scheduling.WorkingHours"

    practitioner = factory.SubFactory(UserFactory, role="Practitioner")
    weekday = 0
    starts_at = datetime.time(9, 0)
    ends_at = datetime.time(17, 0)


class ClosureFactory(DjangoModelFactory):
    class Meta:
        model = "scheduling.Closure"

    starts_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))
    ends_on = factory.LazyAttribute(lambda c: c.starts_on)
    reason = "Public holiday"


class CalendarFeedFactory(DjangoModelFactory):
    class Meta:
        model = "scheduling.CalendarFeed"

    practitioner = factory.SubFactory(UserFactory, role="Practitioner")


# --- the outbox (clinic.outbox) ----------------------------------------------------------------------


class OutboundMessageFactory(DjangoModelFactory):
    class Meta:
        model = "clinic.OutboundMessage"

    kind = "reminder"
    key = factory.Sequence(lambda n: f"test:{n}")
    recipient = factory.Sequence(lambda n: f"patient{n}@mail.example")
    subject = "Appointment reminder"
    body = "Hello, see you tomorrow at 10:00."
    next_attempt_at = factory.LazyFunction(timezone.now)

    class Params:
        failed = factory.Trait(
            status="failed", attempts=5, last_error="SMTPServerDisconnected: Connection unexpectedly closed"
        )


# --- questionnaires --------------------------------------------------------------------------------


class QuestionnaireFactory(DjangoModelFactory):
    class Meta:
        model = "questionnaires.Questionnaire"
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"q-{n}")
    name = factory.LazyAttribute(lambda q: f"Questionnaire {q.code}")
    scoring = "sum"
    origin = "entered"


class QuestionnaireItemFactory(DjangoModelFactory):
    class Meta:
        model = "questionnaires.QuestionnaireItem"

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    link_id = factory.Sequence(lambda n: f"item-{n}")
    text = "How much does it bother you?"
    answer_type = "integer"
    min_value = 0
    max_value = 4
    order = factory.Sequence(lambda n: n)


class ItemChoiceFactory(DjangoModelFactory):
    class Meta:
        model = "questionnaires.ItemChoice"

    item = factory.SubFactory(QuestionnaireItemFactory, answer_type="choice", min_value=None, max_value=None)
    code = factory.Sequence(lambda n: f"c{n}")
    label = factory.LazyAttribute(lambda c: f"Choice {c.code}")
    score = Decimal("1")


def shipped_questionnaire(code):
    from questionnaires.models import Questionnaire

    return Questionnaire.objects.get(code=code)


class AssignmentFactory(DjangoModelFactory):
    """A follow-up questionnaire of a completed course, open now."""

    class Meta:
        model = "questionnaires.Assignment"

    course = factory.SubFactory(TreatmentCourseFactory)
    questionnaire = factory.LazyFunction(lambda: shipped_questionnaire("pain-nrs"))
    anchor = "follow_up"
    timepoint = factory.LazyFunction(lambda: courses.ProtocolTimepoint.objects.get(code="w12"))
    opens_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    closes_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=20))


class PatientSideEffectReportFactory(DjangoModelFactory):
    """A reaction reported in a completed check-in after a treatment, waiting for the practitioner."""

    class Meta:
        model = courses.PatientSideEffectReport

    session = factory.SubFactory(TreatmentSessionFactory, completed=True)
    course = factory.LazyAttribute(lambda r: r.session.course)
    assignment = factory.LazyAttribute(
        lambda r: AssignmentFactory(
            course=r.course,
            questionnaire=shipped_questionnaire("check-in"),
            anchor="after",
            session=r.session,
            timepoint=None,
            status="completed",
        )
    )
    item_code = "swelling"
    term = factory.LazyFunction(lambda: courses.SideEffectTerm.objects.get(name="Swelling"))
    description = "Swelling where injected: Yes, mild: I noticed it"
    grade = 1
    reported_on = factory.LazyFunction(timezone.localdate)
