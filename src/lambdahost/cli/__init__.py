"""The ``lambdahost`` command. Only ``serve`` builds a Platform; every other command talks HTTP through
``lambdahost.client``."""
