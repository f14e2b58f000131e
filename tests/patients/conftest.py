import pytest


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Uploaded scans go to a throwaway folder, never the project's media/."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
