from django.template import Context, Template

from tests.factories import UserFactory


def render(people, chosen):
    template = Template("{% load staff %}{% staff_options people chosen %}")
    return template.render(Context({"people": people, "chosen": chosen}))


def test_one_option_per_person_with_the_chosen_one_selected(db):
    ada = UserFactory(first_name="Ada", last_name="Okafor")
    ben = UserFactory(first_name="Ben", last_name="<b>Kerr</b>")
    html = render([ada, ben], ben)
    assert html == (
        f'<option value="{ada.pk}">Ada Okafor</option>'
        f'<option value="{ben.pk}" selected>Ben &lt;b&gt;Kerr&lt;/b&gt;</option>'
    )


def test_nothing_chosen_selects_nothing(db):
    assert " selected" not in render([UserFactory(), UserFactory()], None)
