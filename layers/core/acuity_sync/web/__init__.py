"""The connect function's pages: routes' views (pages.py), the settings form (forms.py), the HTML (templates/,
Jinja2 with autoescape) and the security headers every answer carries (security.py)."""
