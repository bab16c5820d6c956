"""The browser UI, served by ``lambdahost serve`` at ``/ui/``: server-rendered Jinja2 templates (autoescaped), one
CSS file and a little vanilla JavaScript, all shipped in this package (no build step, no CDN, works offline).

``app.routes`` gives the routes ``api/app.py`` mounts; ``session.Sessions`` is the login cookie that
``api/auth.py`` accepts for ``/ui`` paths when credentials are configured. Each page is its own module."""
