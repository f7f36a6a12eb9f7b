"""Where the test servers are, as the test command exported them."""

import os

# postgresql+psycopg://… when the suite runs against the real PostgreSQL server.
TEST_DATABASE_URL = os.environ.get("PPM_TEST_DATABASE_URL", "")
# redis://… when a real Redis server is running for shared rate limits.
TEST_REDIS_URL = os.environ.get("PPM_TEST_REDIS_URL", "")
