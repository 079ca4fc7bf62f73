"""CSV and HXL-tagged CSV for API answers that are tables (totals, coverage).

A view that offers them sets `export_columns` on its Response: a list of (key, header, hxl hashtag).
The rows are `data["results"]`. Values are written as the API gives them: never locale-formatted.
"""

import csv
import io

from rest_framework.renderers import BaseRenderer


class CSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"
    with_hashtags = False

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        columns = getattr(response, "export_columns", None)
        if response is not None and (response.status_code >= 400 or columns is None):
            # An error (or a view without a table): say what went wrong, as CSV.
            writer.writerow(["field", "error"])
            for field, messages in (data or {}).items():
                for message in messages if isinstance(messages, list) else [messages]:
                    writer.writerow([field, message])
            return out.getvalue().encode(self.charset)
        writer.writerow([header for _, header, _ in columns])
        if self.with_hashtags:
            writer.writerow([tag for _, _, tag in columns])
        for row in data["results"]:
            writer.writerow(["" if row.get(key) is None else row.get(key) for key, _, _ in columns])
        return out.getvalue().encode(self.charset)


class HXLRenderer(CSVRenderer):
    """CSV with the HXL hashtag row under the header (https://hxlstandard.org)."""

    format = "hxl"
    with_hashtags = True
