FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext curl && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
# The project installs its pinned runtime dependencies only (it has no package of its own to build).
RUN pip install --no-cache-dir .
COPY . .
RUN DEBUG=1 python manage.py compilemessages --ignore=.venv -v0 && DEBUG=1 python manage.py collectstatic --no-input -v0
RUN useradd --create-home nmo && mkdir -p /app/media /app/private-files && chown nmo /app/media /app/private-files
USER nmo
EXPOSE 8000
CMD ["gunicorn", "nmo_portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
