"""Form helpers shared by every app's views."""


def apply_service_errors(form, error):
    """Show a service's ValidationError on the form: beside the field it names, or on top of the form."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)
