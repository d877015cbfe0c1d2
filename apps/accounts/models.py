from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """The site's user; a custom model from day one so fields can be added without a rewrite."""

    def __str__(self) -> str:
        return self.username
