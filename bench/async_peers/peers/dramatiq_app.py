"""Dramatiq with the Redis broker and the Results middleware on a Redis backend (database 12); one no-op actor."""

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.results import Results
from dramatiq.results.backends import RedisBackend

REDIS_URL = "redis://127.0.0.1:6379/12"

backend = RedisBackend(url=REDIS_URL)
broker = RedisBroker(url=REDIS_URL)
broker.add_middleware(Results(backend=backend))
dramatiq.set_broker(broker)


@dramatiq.actor(store_results=True, max_retries=0)
def noop() -> None:
    return None
