from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .forms import AdminLoginForm
from .models import User

admin.site.register(User, UserAdmin)
# The admin's sign-in is the most valuable one to guess: it is throttled like the site's.
admin.site.login_form = AdminLoginForm
