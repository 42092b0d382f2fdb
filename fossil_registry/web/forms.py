"""Web forms (Flask-WTF: every form carries a CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..i18n import translate
from ..vocab import Role


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Optional(), Length(max=80)])
    days = IntegerField(_l("Valid for (days)"), default=365, validators=[Optional(), NumberRange(min=1, max=3650)])


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(min=2, max=40)])
    display_name = StringField(_l("Full name"), validators=[Optional(), Length(max=80)])
    role = SelectField(_l("Role"), choices=Role.values())
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = [(value, translate(label)) for value, label in Role.choices()]  # the reader's language

