from django.contrib.auth.models import Group

from clinic import roles


def perms_of(role):
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_the_three_roles_exist_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)


def test_front_desk_handles_demographics_and_scheduling_but_no_clinical_entries(db):
    perms = perms_of(roles.FRONT_DESK)
    assert {"patients.add_patient", "patients.change_patient", "courses.change_treatmentsession"} <= perms
    assert not perms & {
        "patients.add_screening",
        "courses.add_injection",
        "courses.view_clinical",
        "courses.view_sideeffect",
        "courses.view_outcomes",
    }


def test_practitioners_do_all_clinical_work(db):
    perms = perms_of(roles.PRACTITIONER)
    assert {
        "patients.add_screening",
        "patients.add_consent",
        "courses.add_treatmentcourse",
        "courses.add_injection",
        "courses.add_sideeffect",
        "courses.view_clinical",
    } <= perms
    assert "courses.change_lot" not in perms


def test_clinic_admins_see_what_practitioners_see_and_manage_catalogues_and_users(db):
    admin, practitioner = perms_of(roles.CLINIC_ADMIN), perms_of(roles.PRACTITIONER)
    assert {p for p in practitioner if ".view_" in p} <= admin
    assert {
        "courses.change_lot",
        "courses.add_product",
        "clinic.add_user",
        "courses.view_all_outcomes",
    } <= admin


def test_no_role_may_delete_anything(db):
    for role in roles.ROLES:
        assert not [p for p in perms_of(role) if ".delete_" in p]


def test_user_role_helpers(practitioner, clinic_admin, stranger):
    assert practitioner.is_practitioner and not practitioner.is_clinic_admin
    assert clinic_admin.is_clinic_admin and clinic_admin.role_label == "Clinic admin"
    assert stranger.role_label == "No role"
