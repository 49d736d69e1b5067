-- Aggregated attribution paths imported from other tools (docs/schema.md,
-- paths; docs/import.md, "Paths"): one row per distinct path of a dataset,
-- with how often it ended in a conversion and how often it did not. path is
-- the channels in order joined by ' > ', '' for a conversion without a touch.
CREATE TABLE paths (
    dataset       VARCHAR NOT NULL,
    path          VARCHAR NOT NULL DEFAULT '',
    conversions   DOUBLE NOT NULL,
    value         DECIMAL(18,4) NOT NULL,
    currency      VARCHAR NOT NULL,
    nulls         DOUBLE NOT NULL,
    PRIMARY KEY (dataset, path)
);
