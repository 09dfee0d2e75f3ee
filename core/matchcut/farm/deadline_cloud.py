"""deadline-cloud: AWS Deadline Cloud through its own client (PyPI ``deadline``), the bundle as it is.

``deadline.client.api.create_job_from_job_bundle`` reads ``template.json`` and ``parameter_values.json`` and
submits to the workstation's default farm and queue (``deadline config``); it returns the job id. Not installed,
not configured (no default farm or queue, no AWS credentials): a FarmClientError saying which and what to run.
"""

from __future__ import annotations

from matchcut.errors import FarmClientError, FarmError
from matchcut.farm import Submission
from matchcut.farm.bundle import Bundle

INSTALL = "pip install 'matchcut[deadline-cloud]' (or pip install deadline) in the worker environment"
CONFIGURE = ("deadline config set defaults.farm_id FARM_ID and deadline config set defaults.queue_id QUEUE_ID "
             "(or deadline config gui), then deadline auth login")


def client():
    """Deadline Cloud's ``api`` and ``get_setting``; FarmClientError when the package is not installed."""
    try:
        from deadline.client import api
        from deadline.client.config import get_setting
    except ImportError:
        raise FarmClientError("deadline", f"not installed (AWS Deadline Cloud's client, PyPI package deadline): "
                              f"{INSTALL}") from None
    return api, get_setting


def queue() -> tuple[str, str]:
    """The default farm and queue ids of this workstation's Deadline Cloud configuration; FarmClientError
    naming what is missing."""
    _, get_setting = client()
    farm_id, queue_id = get_setting("defaults.farm_id"), get_setting("defaults.queue_id")
    missing = [name for name, value in (("defaults.farm_id", farm_id), ("defaults.queue_id", queue_id)) if not value]
    if missing:
        raise FarmClientError("deadline", f"not configured: no {' and no '.join(missing)} in the Deadline Cloud "
                              f"configuration; run {CONFIGURE}")
    return farm_id, queue_id


def submit(bundle: Bundle, priority: int | None, log) -> Submission:
    """Create the job from the bundle in the default queue; returns its id."""
    api, _ = client()
    farm_id, queue_id = queue()
    log(f"deadline-cloud: submitting {bundle.folder} to farm {farm_id}, queue {queue_id}")
    try:
        job_id = api.create_job_from_job_bundle(str(bundle.folder), name=bundle.name, priority=priority,
                                                submitter_name="Matchcut", print_function_callback=log,
                                                interactive_confirmation_callback=lambda message, default: default)
    except Exception as exc:  # the client's and boto3's own errors: one line naming the client
        detail = " ".join(str(exc).split()) or type(exc).__name__
        if type(exc).__name__ in ("NoCredentialsError", "ProfileNotFound", "NoRegionError", "UnauthorizedSSOTokenError"):
            raise FarmClientError("deadline", f"not configured: {detail}; run {CONFIGURE}") from None
        raise FarmError(f"deadline: the submission of {bundle.folder} failed: {detail}") from None
    if not job_id:
        raise FarmError(f"deadline: the submission of {bundle.folder} returned no job id")
    return Submission("deadline-cloud", str(job_id), str(bundle.folder), [str(bundle.template),
                                                                          str(bundle.parameter_values)],
                      message=f"submitted to Deadline Cloud farm {farm_id}, queue {queue_id}")
