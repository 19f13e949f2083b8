FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY survey_site survey_site
COPY authorities authorities
COPY surveys surveys
COPY reporting reporting
COPY campaigns campaigns
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
RUN useradd --create-home survey && chown -R survey /app
USER survey
EXPOSE 8000
