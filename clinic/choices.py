"""Choices used by more than one app."""

from django.db import models


class Laterality(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BILATERAL = "bilateral", "Bilateral"
    MIDLINE = "midline", "Midline"
    NOT_APPLICABLE = "na", "Not applicable"


class BodyRegion(models.TextChoices):
    HEAD = "head", "Head / TMJ"
    CERVICAL = "cervical", "Cervical spine"
    THORACIC = "thoracic", "Thoracic spine"
    LUMBAR_PELVIS = "lumbar_pelvis", "Lumbar spine / pelvis"
    HIP = "hip", "Hip"
    KNEE = "knee", "Knee"
    ANKLE_FOOT = "ankle_foot", "Ankle / foot"
    SHOULDER = "shoulder", "Shoulder"
    ELBOW_WRIST_HAND = "elbow_wrist_hand", "Elbow / wrist / hand"
    NERVE = "nerve", "Peripheral nerve"
    OTHER = "other", "Other"
