"""Face registries: an owner's spaces (0–9), the persons in each, and their enrolled faces.

A space belongs to a user. ``client`` tells whose it is on the wire: NULL for the user's own web
spaces, an ApiClient for the spaces that client's VK calls use — so a partner's space 0 and the
user's own space 0 are different registries, both owned (and deletable) by the same user.
"""

from __future__ import annotations

import uuid

import numpy as np
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext

EMBEDDING_SIZE = 128
MAX_SPACES = 10  # numbers 0..9, as in VK's persons API


def _thumbnail_path(face: Face, filename: str) -> str:
    return f"faces/{face.space.owner_id}/{face.space.uuid}/{face.uuid}.jpg"


class Space(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="face_spaces"
    )
    client = models.ForeignKey(
        "accounts.ApiClient", null=True, blank=True, on_delete=models.CASCADE, related_name="face_spaces"
    )
    number = models.PositiveSmallIntegerField(validators=[MaxValueValidator(MAX_SPACES - 1)])
    name = models.CharField(max_length=100, blank=True)
    # Bumped in the same transaction as every change to the space's faces; each process's
    # in-memory index compares it with the row before searching (see index.py).
    version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "number"],
                condition=models.Q(client__isnull=True),
                name="space_unique_number_per_owner",
            ),
            models.UniqueConstraint(
                fields=["client", "number"],
                condition=models.Q(client__isnull=False),
                name="space_unique_number_per_client",
            ),
            models.CheckConstraint(
                condition=models.Q(number__lte=MAX_SPACES - 1), name="space_number_0_to_9"
            ),
        ]

    def __str__(self) -> str:
        label = f"space {self.number}"
        if self.name:
            label += f" “{self.name}”"
        return f"{label} of {self.owner_id}" + (f" via client {self.client_id}" if self.client_id else "")

    @property
    def title(self) -> str:
        # A web space is named by its owner when made; one a program made through the API
        # without a name is still told apart from the named ones.
        if self.name:
            return self.name
        if self.client_id:
            return gettext("API space %(number)s") % {"number": self.number}
        return gettext("Unnamed space")


class Person(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="persons")
    # The number callers use (VK ``person_id``; ``tag`` is "person<person_id>").
    person_id = models.PositiveIntegerField()
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["space", "person_id"], name="person_unique_id_per_space"
            ),
        ]

    def __str__(self) -> str:
        return self.tag + (f" ({self.name})" if self.name else "")

    @property
    def tag(self) -> str:
        return f"person{self.person_id}"

    @property
    def title(self) -> str:
        return self.name or self.tag


class Face(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Denormalised from person.space so an index loads one space's faces without a join.
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="faces")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="faces")
    # dlib's 128-d descriptor as raw little-endian float32 bytes (512 bytes).
    embedding = models.BinaryField()
    left = models.IntegerField()
    top = models.IntegerField()
    right = models.IntegerField()
    bottom = models.IntegerField()
    thumbnail = models.FileField(upload_to=_thumbnail_path, max_length=255, blank=True)
    image_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Loading a space's index: every embedding of one space.
            models.Index(fields=["space", "id"], name="face_space_idx"),
        ]

    def __str__(self) -> str:
        return f"face {self.uuid} of person {self.person_id}"

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    @property
    def vector(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype="<f4")
