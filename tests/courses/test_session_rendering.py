"""The session page's forms render from templates (Jinja2: courses.session_forms.SessionFormRenderer): every
input labelled, what was chosen or typed kept on error, each error beside its field, hostile text escaped."""

import datetime
from collections import defaultdict
from html.parser import HTMLParser

import pytest
from django.forms.renderers import get_default_renderer
from django.test import SimpleTestCase
from django.urls import reverse
from django.utils import timezone

from courses.models import Injection, SessionStatus
from courses.session_forms import (
    SESSION_RENDERER,
    ComponentForm,
    ConfirmationForm,
    InjectionForm,
    SessionCatalogue,
    SessionForm,
    SideEffectForm,
    VoidForm,
)
from tests.courses.test_session_logging import session_post
from tests.factories import (
    InjectionFactory,
    InjectionSiteFactory,
    LotFactory,
    ScreeningFactory,
    SideEffectTermFactory,
    TreatmentCourseFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


class _Fields(HTMLParser):
    """The page's form fields by id, with their labels, values, options and the errors of their grid cell.

    A cell is the nearest enclosing `col*` div: the field's label, input and errors share it.
    """

    VOID = {"input", "br", "img", "meta", "link", "hr", "source", "wbr", "col", "area", "base", "embed"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.cells = [], 0
        self.fields, self.labels, self.errors = {}, {}, defaultdict(list)
        self._text = None  # (kind, key, parts) while inside a label, option, textarea or error

    def _cell(self):
        return next((cell for tag, cell in reversed(self.stack) if cell is not None), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        cell = None
        if tag == "div" and (attrs.get("class") or "").split(" ")[0].startswith("col"):
            self.cells += 1
            cell = self.cells
        if tag in ("input", "select", "textarea") and attrs.get("id"):
            assert attrs["id"] not in self.fields, f"duplicate id {attrs['id']}"
            self.fields[attrs["id"]] = {
                "tag": tag,
                "attrs": attrs,
                "cell": self._cell() if cell is None else cell,
                "options": [],
                "text": "",
            }
            self._select = attrs["id"] if tag == "select" else getattr(self, "_select", None)
            if tag == "textarea":
                self._text = ("textarea", attrs["id"], [])
        elif tag == "option":
            self._text = ("option", (self._select, attrs.get("value"), "selected" in attrs), [])
        elif tag == "label" and attrs.get("for"):
            self._text = ("label", attrs["for"], [])
        elif tag == "div" and "invalid-feedback" in (attrs.get("class") or ""):
            self._text = ("error", self._cell(), [])
        if tag not in self.VOID:
            self.stack.append((tag, cell))

    def handle_endtag(self, tag):
        if self._text and tag in ("label", "option", "textarea", "div"):
            kind, key, parts = self._text
            text = "".join(parts)
            if kind == "label":
                self.labels[key] = " ".join(text.split())
            elif kind == "option":
                select, value, selected = key
                self.fields[select]["options"].append((value, text, selected))
            elif kind == "textarea":
                self.fields[key]["text"] = text
            else:
                self.errors[key].append(" ".join(text.split()))
            self._text = None
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._text:
            self._text[2].append(data)


def fields_of(html):
    parser = _Fields()
    parser.feed(html)
    return parser


def selected(field):
    return [value for value, _label, chosen in field["options"] if chosen]


def url(session):
    return reverse("courses:session-log", args=[session.pk])


@pytest.fixture
def visit(practitioner):
    course = TreatmentCourseFactory(
        practitioner=practitioner,
        start_date=timezone.localdate() - datetime.timedelta(days=14),
        interval_days=14,
        planned_sessions=6,
    )
    TreatmentSessionFactory(course=course, sequence=1, completed=True)
    ScreeningFactory(patient=course.patient, screened_by=practitioner)
    return TreatmentSessionFactory(course=course, sequence=2, status=SessionStatus.CHECKED_IN)


def test_every_input_of_the_session_page_has_a_label_tied_to_it(client_for, practitioner, visit):
    InjectionFactory(session=visit)  # a saved row: its void controls are on the page too

    page = fields_of(client_for(practitioner).get(url(visit)).text)

    shown = {  # the rows' DELETE boxes are hidden (d-none): the Remove buttons set them
        id_: field
        for id_, field in page.fields.items()
        if field["attrs"].get("type") != "hidden" and not id_.endswith("-DELETE")
    }
    # The row templates (__prefix__) are what the page's script makes every new row from, the first included.
    expected = {"id_pain_pre", "id_notes", "id_injections-__prefix__-site", "id_side_effects-__prefix__-term"}
    assert expected <= set(shown)
    assert any(id_.startswith("id_void-injections-") for id_ in shown)
    assert [id_ for id_ in shown if not page.labels.get(id_)] == []
    assert page.labels["id_injections-__prefix__-volume_ml"] == "Volume (mL) *"  # required: marked
    assert page.labels["id_injections-__prefix__-spinal_level"] == "Spinal level"
    assert page.labels["id_side_effects-__prefix__-serious"] == "Serious"


def test_a_rejected_save_keeps_every_choice_and_typed_value_with_each_error_beside_its_field(
    client_for, practitioner, visit
):
    site = InjectionSiteFactory(name="Lumbar facet", region="lumbar_pelvis")
    lot, term = LotFactory(), SideEffectTermFactory()
    data = session_post(
        visit,
        components=[{"lot": lot.pk, "volume_ml": "2"}],
        injections=[{"site": site.pk, "laterality": "left", "spinal_level": HOSTILE, "volume_ml": "abc"}],
        side_effects=[
            {
                "term": term.pk,
                "attributed_session": visit.pk,
                "onset_date": timezone.localdate().isoformat(),
                "severity": 2,
                "serious": "on",
                "action_taken": "none",
                "outcome": "ongoing",
                "relatedness": "possibly",
                "notes": HOSTILE,
            }
        ],
        medication_notes=HOSTILE,
        notes=HOSTILE,
    )

    response = client_for(practitioner).post(url(visit), data)

    assert response.status_code == 200
    assert not Injection.objects.filter(session=visit).exists()
    page = fields_of(response.text)
    field = page.fields
    assert selected(field["id_components-0-lot"]) == [str(lot.pk)]
    assert selected(field["id_injections-0-site"]) == [str(site.pk)]
    assert selected(field["id_injections-0-laterality"]) == ["left"]
    assert selected(field["id_side_effects-0-term"]) == [str(term.pk)]
    assert selected(field["id_side_effects-0-attributed_session"]) == [str(visit.pk)]
    assert "checked" in field["id_side_effects-0-serious"]["attrs"]
    assert field["id_injections-0-spinal_level"]["attrs"]["value"] == HOSTILE
    assert field["id_side_effects-0-notes"]["attrs"]["value"] == HOSTILE
    assert field["id_medication_notes"]["attrs"]["value"] == HOSTILE
    assert field["id_notes"]["text"].strip() == HOSTILE
    assert page.errors[field["id_injections-0-volume_ml"]["cell"]] == ["Enter a number."]
    assert page.errors[field["id_side_effects-0-serious_criterion"]["cell"]] == [
        "Say which seriousness criterion applies."
    ]
    assert page.errors[field["id_injections-0-site"]["cell"]] == []
    # The row templates that add rows start blank whatever the rows chose.
    assert selected(field["id_injections-__prefix__-site"]) == [""]
    assert selected(field["id_components-__prefix__-lot"]) == [""]


def test_hostile_catalogue_names_and_typed_text_are_escaped_on_the_page(client_for, practitioner, visit):
    site = InjectionSiteFactory(name="<script>alert(1)</script>", region="knee", risk_note="near <nerve>")
    lot = LotFactory(lot_number="A\"1'<b>")
    term = SideEffectTermFactory(name="Flare & <pain>")
    visit.medication_notes = visit.notes = HOSTILE
    visit.save()

    html = client_for(practitioner).get(url(visit)).text

    assert "<script>alert" not in html and "<b>" not in html and "<nerve>" not in html
    field = fields_of(html).fields

    def label(select, value):
        return next(text for option, text, _chosen in field[select]["options"] if option == str(value))

    assert label("id_injections-__prefix__-site", site.pk) == "<script>alert(1)</script> ⚠ near <nerve>"
    assert label("id_side_effects-__prefix__-site", site.pk) == "<script>alert(1)</script> ⚠ near <nerve>"
    assert label("id_components-__prefix__-lot", lot.pk).startswith("Lot A\"1'<b> (exp")
    assert label("id_side_effects-__prefix__-term", term.pk) == "Flare & <pain>"
    assert field["id_medication_notes"]["attrs"]["value"] == HOSTILE
    assert field["id_notes"]["text"].strip() == HOSTILE


def test_a_catalogue_list_is_shared_by_every_row_and_rendered_once_per_chosen_value():
    session = TreatmentSessionFactory()
    sites = [InjectionSiteFactory(name=f"Site {n}", region="knee") for n in range(3)]
    catalogue = SessionCatalogue(session, attributable_sessions=[session])
    rows = [
        InjectionForm({"injections-0-site": str(sites[1].pk)}, prefix="injections-0", catalogue=catalogue),
        InjectionForm(prefix="injections-1", catalogue=catalogue),
        InjectionForm(prefix="injections-2", catalogue=catalogue),
    ]

    chosen, blank, other_blank = (fields_of(str(form["site"])).fields for form in rows)

    assert selected(chosen["id_injections-0-site"]) == [str(sites[1].pk)]
    assert selected(blank["id_injections-1-site"]) == [""]
    assert other_blank["id_injections-2-site"]["options"] == blank["id_injections-1-site"]["options"]
    assert rows[0].fields["site"].choices is rows[2].fields["site"].choices is catalogue.site_choices
    assert set(catalogue.site_choices._options) == {"", str(sites[1].pk)}


def test_the_session_page_widgets_render_as_djangos_own_templates_do():
    """The JS and the browser tests read Django's widget markup: the Jinja2 renderer keeps it."""
    session = TreatmentSessionFactory(notes=HOSTILE, medication_notes=HOSTILE)
    site = InjectionSiteFactory(
        name='Lumbar <L4> "facet"', region="lumbar_pelvis", risk_note="Nerve & root <risk>"
    )
    lot = LotFactory(lot_number="A<1>&2")
    term = SideEffectTermFactory(name="Flare & <pain>")
    saved = InjectionFactory(session=session)
    catalogue = SessionCatalogue(session, attributable_sessions=[session])
    row_data = {
        "components-0-lot": str(lot.pk),
        "side_effects-0-term": str(term.pk),
        "side_effects-0-attributed_session": str(session.pk),
        "injections-0-site": str(site.pk),
        "injections-0-laterality": "left",
        "injections-0-spinal_level": HOSTILE,
        "injections-0-volume_ml": "1.5",
        "side_effects-0-notes": HOSTILE,
        "side_effects-0-serious": "on",
        f"void-injections-{saved.pk}-reason": HOSTILE,
    }
    builders = [
        lambda renderer: SessionForm(
            {"notes": HOSTILE, "pain_pre": "<b>"}, instance=session, initial={"version": 1}, renderer=renderer
        ),
        lambda renderer: SessionForm(instance=session, initial={"version": 1}, renderer=renderer),
        lambda renderer: ConfirmationForm({"confirm-spacing": HOSTILE}, session=session, renderer=renderer),
        lambda renderer: ComponentForm(prefix="components-0", catalogue=catalogue, renderer=renderer),
        lambda renderer: ComponentForm(
            row_data, prefix="components-0", catalogue=catalogue, renderer=renderer
        ),
        lambda renderer: SideEffectForm(
            prefix="side_effects-0", catalogue=catalogue, default_attribution=session.pk, renderer=renderer
        ),
        lambda renderer: InjectionForm(
            row_data, prefix="injections-0", catalogue=catalogue, renderer=renderer
        ),
        lambda renderer: SideEffectForm(
            row_data, prefix="side_effects-0", catalogue=catalogue, renderer=renderer
        ),
        lambda renderer: VoidForm(row_data, saved={"injections": [saved]}, renderer=renderer),
    ]
    checker = SimpleTestCase()
    compared = 0
    for make in builders:
        ours, djangos = make(renderer=None), make(renderer=get_default_renderer())
        assert ours.renderer is SESSION_RENDERER
        for field, reference in zip(ours, djangos, strict=True):
            checker.assertHTMLEqual(str(field), str(reference))
            compared += 1
    assert compared > 30
