"""The session page renders its widgets in Python: the markup stays exactly Django's, escaping included."""

import pytest
from django.forms.renderers import get_default_renderer
from django.urls import reverse

from courses.session_forms import (
    ROW_RENDERER,
    ComponentForm,
    ConfirmationForm,
    InjectionForm,
    SessionCatalogue,
    SessionForm,
    SideEffectForm,
    VoidForm,
    field_cell,
)
from tests.factories import (
    InjectionFactory,
    InjectionSiteFactory,
    LotFactory,
    SideEffectTermFactory,
    TreatmentSessionFactory,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(\"x\")</script> & 'quoted'"


def _pairs(make):
    """The same form built twice: with the session page's renderer and with Django's own."""
    fast, slow = make(renderer=None), make(renderer=get_default_renderer())
    assert fast.renderer is ROW_RENDERER
    return zip(fast, slow, strict=True)


def test_every_session_page_widget_renders_exactly_like_djangos_templates_with_hostile_input():
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
    compared = 0
    for make in builders:
        for fast, slow in _pairs(make):
            assert str(fast) == str(slow), fast.name
            compared += 1
    assert compared > 30


def test_hostile_text_in_catalogue_labels_and_values_is_escaped_on_the_page(client_for, practitioner):
    session = TreatmentSessionFactory(medication_notes=HOSTILE)
    InjectionSiteFactory(name="Knee <b>bold</b>", risk_note="near <nerve>")
    response = client_for(practitioner).get(reverse("courses:session-log", args=[session.pk]))

    assert response.status_code == 200
    html = response.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;quoted&#x27;" in html
    assert "Knee &lt;b&gt;bold&lt;/b&gt; ⚠ near &lt;nerve&gt;" in html


def test_a_catalogue_list_marks_only_the_chosen_option_and_is_shared_by_every_row():
    session = TreatmentSessionFactory()
    sites = [InjectionSiteFactory(name=f"Site {n}", region="knee") for n in range(3)]
    catalogue = SessionCatalogue(session, attributable_sessions=[session])
    rows = [
        InjectionForm({"injections-0-site": str(sites[1].pk)}, prefix="injections-0", catalogue=catalogue),
        InjectionForm(prefix="injections-1", catalogue=catalogue),
    ]

    chosen, blank = (str(form["site"]) for form in rows)

    assert chosen.count(" selected>") == 1 and f'<option value="{sites[1].pk}" selected>' in chosen
    assert blank.count(" selected>") == 1 and '<option value="" selected>' in blank
    assert rows[0].fields["site"].choices is rows[1].fields["site"].choices is catalogue.site_choices


def test_a_form_cell_has_its_label_required_mark_input_and_errors():
    session = TreatmentSessionFactory()
    catalogue = SessionCatalogue(session, attributable_sessions=[session])
    row = InjectionForm({"injections-0-volume_ml": "<b>"}, prefix="injections-0", catalogue=catalogue)
    row.is_valid()

    volume = field_cell(row["volume_ml"], "col-md-1")
    level = field_cell(row["spinal_level"])
    serious = field_cell(SideEffectForm(prefix="side_effects-0", catalogue=catalogue)["serious"])

    assert volume.startswith('<div class="col-md-1">')
    assert '<label class="form-label small mb-1" for="id_injections-0-volume_ml">Volume (mL) <span' in volume
    assert (
        'value="&lt;b&gt;"' in volume
        and '<div class="invalid-feedback d-block">Enter a number.</div>' in volume
    )
    assert level.startswith('<div class="col-12">') and "text-danger" not in level
    assert '<div class="form-check mt-md-4">' in serious
    assert '<label class="form-check-label" for="id_side_effects-0-serious">Serious</label>' in serious
