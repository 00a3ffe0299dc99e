"""Accounts: school staff linked to schools, board secretaries to a board, support and admins."""

import peewee
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from .base import BaseModel, UTCDateTimeField
from .organisation import Board, School

ROLES = ("school_staff", "board_secretary", "support", "admin")


class User(UserMixin, BaseModel):
    email = peewee.CharField(max_length=254, unique=True)
    name = peewee.CharField(max_length=200)
    password_hash = peewee.CharField(max_length=255)
    role = peewee.CharField(max_length=20, choices=[(r, r) for r in ROLES])
    board = peewee.ForeignKeyField(Board, null=True, backref="secretaries", on_delete="SET NULL")
    active = peewee.BooleanField(default=True)
    last_login_at = UTCDateTimeField(null=True)
    # Part of the id kept in the session cookie; raising it on logout makes every cookie
    # issued before unusable, also one copied elsewhere.
    session_version = peewee.IntegerField(default=0)

    class Meta:
        # "user" is a reserved word in PostgreSQL.
        table_name = "account"

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class UserSchool(BaseModel):
    """A school that a school-staff account works for."""

    user = peewee.ForeignKeyField(User, backref="school_links", on_delete="CASCADE")
    school = peewee.ForeignKeyField(School, backref="staff_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("user", "school"), True),)
