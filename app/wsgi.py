"""The WSGI entry point for production servers: `gunicorn app.wsgi:application`.

The app is created at import, before gunicorn forks its workers; WeasyPrint's font
configuration and the feed caches are made lazily in each worker after the fork.
"""

from app import create_app

application = create_app()
