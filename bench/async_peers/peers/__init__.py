"""The peers: each framework's task module (imported by its own worker processes) and the driver that measures it.
Everything here runs in the bench virtual environment (``.bench-venv``), never in the project's."""
