FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic and compilemessages need settings that import cleanly without the real secrets.
RUN DJANGO_DEBUG=off DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput && python manage.py compilemessages --ignore=.venv -v 0 || true
RUN useradd --system --uid 1000 aidtrack && chown -R aidtrack /app
USER aidtrack
EXPOSE 8000
CMD ["gunicorn", "aidtrack.wsgi:application", "--bind", "0.0.0.0:8000"]
