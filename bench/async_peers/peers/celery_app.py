"""Celery with Redis as broker and result backend (database 11); one no-op task."""

from celery import Celery

REDIS_URL = "redis://127.0.0.1:6379/11"

app = Celery("bench", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
    task_ignore_result=False,  # results are what is measured
)


@app.task(name="noop")
def noop() -> None:
    return None
