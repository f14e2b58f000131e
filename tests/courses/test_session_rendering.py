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
    LotFactory(lot_number="A<1>&2")
    SideEffectTermFactory(name="Flare & <pain>")
    saved = InjectionFactory(session=session)
    catalogue = SessionCatalogue(session, attributable_sessions=[session])
    row_data = {
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
