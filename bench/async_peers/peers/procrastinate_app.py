"""procrastinate on PostgreSQL (database ``bench_procrastinate``); one no-op async task."""

from procrastinate import App, PsycopgConnector

DB_URL = "postgresql://postgres@127.0.0.1:5432/bench_procrastinate"

app = App(connector=PsycopgConnector(conninfo=DB_URL))


@app.task(name="noop")
async def noop() -> None:
    return None
