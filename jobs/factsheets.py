"""Building factsheet PDFs in the worker."""

import logging
import os

from flask import current_app
from flask_babel import format_date
from flask_babel import gettext as _

from portal.clock import utcnow
from portal.delivery.messages import status_label
from portal.domain import audit
from portal.domain.delivery import active_request
from portal.domain.factsheets import remove_expired
from portal.domain.report import build_report
from portal.models import FactsheetJob

from . import data_dir, job
from .factsheet_pdf import DeliveryState, render_factsheet

logger = logging.getLogger(__name__)


def delivery_state(school, school_year) -> DeliveryState:
    """Describe the school's delivery request of the year for the factsheet."""
    request = active_request(school, school_year)
    if request is None:
        return DeliveryState(_("Er is voor dit schooljaar geen levering aangevraagd."))
    if request.status == "delivered":
        summary = _("Geleverd op %(date)s.", date=format_date(request.delivered_at, "d MMMM y"))
    else:
        summary = _(
            "Levering aangevraagd voor %(date)s (status: %(status)s).",
            date=format_date(request.leverdatum, "d MMMM y"),
            status=status_label(request.status),
        )
    details = [
        (_("Toestemming bevoegd gezag"), f"{request.consent_name} ({request.consent_function})"),
        (_("Contactpersoon voor de Inspectie"), request.contact_name),
        (_("Deelnemende groepen of leerjaren"), request.groups),
    ]
    if request.representative_explanation:
        details.append((_("Toelichting representativiteit"), request.representative_explanation))
    return DeliveryState(summary, details)


@job
def build_factsheet(job_id: int) -> str:
    """Build the PDF of a factsheet job and return its path relative to the data folder.

    The PDF is written under a temporary name and renamed when complete, so a download
    never sees a half-written file.
    """
    job_row = FactsheetJob.get_by_id(job_id)
    job_row.status = "running"
    job_row.started_at = utcnow()
    job_row.save(only=[FactsheetJob.status, FactsheetJob.started_at])
    logger.info(
        "factsheet job=%s school=%s year=%s started",
        job_id,
        job_row.school_id,
        job_row.school_year.name,
    )
    try:
        threshold = current_app.config["SUPPRESSION_THRESHOLD"]
        report = build_report([job_row.school], job_row.school_year, threshold)
        state = delivery_state(job_row.school, job_row.school_year)
        pdf = render_factsheet(report, job_row.school.name, state, threshold)
        relative = f"factsheets/{job_row.school.code}-{job_row.school_year.name}-{job_id}.pdf"
        target = data_dir() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".pdf.partial")
        partial.write_bytes(pdf)
        os.replace(partial, target)
    except Exception as error:
        logger.exception("factsheet job=%s failed", job_id)
        job_row.status = "failed"
        job_row.error = type(error).__name__
        job_row.finished_at = utcnow()
        job_row.save()
        raise

    job_row.status = "done"
    job_row.file_path = relative
    job_row.finished_at = utcnow()
    job_row.save()
    audit.record("factsheet.built", None, job_row.school, job_row, bytes=len(pdf))
    logger.info("factsheet job=%s done bytes=%d", job_id, len(pdf))
    return relative


@job
def remove_expired_factsheets() -> None:
    """Delete factsheet PDFs and batch ZIPs older than FACTSHEET_RETENTION_DAYS."""
    days = current_app.config["FACTSHEET_RETENTION_DAYS"]
    files, zips = remove_expired(days)
    logger.info("factsheets expired days=%d pdfs=%d zips=%d", days, files, zips)
