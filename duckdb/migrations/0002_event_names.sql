-- Only track, page and screen events have a name (docs/schema.md): the
-- analyses select events by name alone, without reading the type column.
-- The importer accepted names on identify, group and alias rows before this
-- rule; they carried no meaning and are cleared.
UPDATE events SET name = NULL WHERE name IS NOT NULL AND type NOT IN ('track', 'page', 'screen');
