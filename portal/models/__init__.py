"""Peewee models, one module per concept; the schema itself lives in migrations/."""

from .audit import AuditEvent
from .base import BaseModel, UTCDateTimeField, db, open_database
from .calendar import DeliveryDate, Instrument, InstrumentYear, SchoolYear
from .delivery import DeliveryRequest, DeliveryStatusChange
from .factsheet import FactsheetBatch, FactsheetJob
from .imports import IMPORT_STATUSES, SurveyImport
from .notification import NOTIFICATION_KINDS, BoardReminder, Notification
from .organisation import SECTORS, Board, PupilCount, School
from .survey import SCALES, ComparisonValue, Item, Questionnaire, Respondent
from .users import ROLES, User, UserSchool

ALL_MODELS = [
    SchoolYear,
    DeliveryDate,
    Instrument,
    InstrumentYear,
    Board,
    School,
    PupilCount,
    Questionnaire,
    Item,
    Respondent,
    ComparisonValue,
    User,
    UserSchool,
    DeliveryRequest,
    DeliveryStatusChange,
    FactsheetBatch,
    FactsheetJob,
    AuditEvent,
    Notification,
    BoardReminder,
    SurveyImport,
]

__all__ = [m.__name__ for m in ALL_MODELS] + [
    "ALL_MODELS",
    "BaseModel",
    "IMPORT_STATUSES",
    "NOTIFICATION_KINDS",
    "ROLES",
    "SCALES",
    "SECTORS",
    "UTCDateTimeField",
    "db",
    "open_database",
]
