"""PostgreSQL refuses a location parent that would make a loop (a place under itself), however the
row is written: admin, API, SQL. Location.clean gives the same rule a clear message in forms; SQLite
(the embedded default) relies on that alone, since its triggers cannot walk a tree."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION aidtrack_location_no_loop() RETURNS trigger AS $$
DECLARE
    loop_codes text;
BEGIN
    IF NEW.parent_id IS NULL THEN
        RETURN NEW;
    END IF;
    WITH RECURSIVE up(id, parent_id, n) AS (
        SELECT id, parent_id, 0 FROM aidtrack_location WHERE id = NEW.parent_id
        UNION ALL
        SELECT l.id, l.parent_id, up.n + 1 FROM aidtrack_location l JOIN up ON l.id = up.parent_id
        WHERE up.n < 32 AND up.id <> NEW.id
    )
    SELECT string_agg(l.code, ' -> ' ORDER BY up.n) INTO loop_codes
    FROM up JOIN aidtrack_location l ON l.id = up.id
    WHERE EXISTS (SELECT 1 FROM up WHERE up.id = NEW.id);
    IF loop_codes IS NOT NULL THEN
        RAISE EXCEPTION 'location_no_loop: a place cannot lie under itself: % -> %', NEW.code, loop_codes
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER aidtrack_location_no_loop BEFORE INSERT OR UPDATE OF parent_id ON aidtrack_location
FOR EACH ROW EXECUTE FUNCTION aidtrack_location_no_loop();
"""

DROP = """
DROP TRIGGER IF EXISTS aidtrack_location_no_loop ON aidtrack_location;
DROP FUNCTION IF EXISTS aidtrack_location_no_loop();
"""


def run(sql):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)  # no parameters: the function's % are its own

    return apply


class Migration(migrations.Migration):
    dependencies = [("aidtrack", "0003_partner_keys_and_idempotency")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
