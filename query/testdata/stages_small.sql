-- Hand-computed stage journeys for stages_test.go (stage list lead, mql, sql, won).
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 'EUR', 0.9);

INSERT INTO people (person_id, channel, segment) VALUES
 ('p1', 'Paid Social', 'smb'), ('p2', 'Paid Social', 'smb'), ('p3', 'Email', 'ent'), ('p4', 'Email', NULL), ('p5', NULL, NULL), ('p6', 'Email', NULL);

INSERT INTO stage_changes VALUES
 ('person', 'p1', 'lead', '2024-01-02 10:00', 'crm'),
 ('person', 'p1', 'mql', '2024-01-04 10:00', 'crm'),
 ('person', 'p1', 'sql', '2024-01-10 10:00', 'crm'),
 ('person', 'p1', 'won', '2024-02-15 10:00', 'crm'),
 ('person', 'p2', 'lead', '2024-01-05 10:00', 'crm'),
 ('person', 'p2', 'lead', '2024-01-20 10:00', 'crm'),   -- repeated: the first counts
 ('person', 'p2', 'mql', '2024-01-25 10:00', 'crm'),
 ('person', 'p3', 'mql', '2024-01-08 10:00', 'crm'),    -- skipped lead
 ('person', 'p3', 'sql', '2024-01-08 10:00', 'crm'),    -- same instant as mql
 ('person', 'p4', 'lead', '2023-12-28 10:00', 'crm'),   -- entered before the period
 ('person', 'p4', 'mql', '2024-01-03 10:00', 'crm'),
 ('person', 'p4', 'sql', '2024-01-05 10:00', 'crm'),
 ('person', 'p5', 'lead', '2024-01-30 10:00', 'crm'),
 ('person', 'p5', 'won', '2024-03-30 10:00', 'crm'),    -- skipped mql and sql
 ('person', 'p6', 'sql', '2024-02-05 10:00', 'crm'),    -- after the period
 ('person', 'p6', 'lost', '2024-01-05 10:00', 'crm'),   -- not in the list: ignored
 ('account', 'p1', 'lead', '2024-01-01 10:00', 'crm');  -- another entity type

INSERT INTO deals (deal_id, pipeline, stage, status, created_at, closed_at, amount, currency) VALUES
 ('d1', 'new', 'won', 'won', '2024-01-01 00:00', '2024-01-31 00:00', 1000, 'EUR'),
 ('d2', 'new', 'lost', 'lost', '2024-01-05 00:00', '2024-02-04 00:00', 500, 'EUR'),
 ('d3', 'new', 'won', 'won', '2023-12-01 00:00', '2024-01-20 00:00', 3000, 'USD'),
 ('d4', 'new', 'proposal', 'open', '2024-01-15 00:00', NULL, 2000, 'EUR'),
 ('d5', 'new', 'negotiation', 'open', '2024-01-20 00:00', NULL, 1000, 'EUR'),
 ('d6', 'new', 'won', 'won', '2023-10-01 00:00', '2023-11-10 00:00', 100, 'EUR'),
 ('d7', 'service', 'won', 'won', '2024-01-01 00:00', '2024-01-02 00:00', 50, 'EUR');

INSERT INTO stage_changes VALUES
 ('deal', 'd1', 'opportunity', '2024-01-01 00:00', 'crm'),
 ('deal', 'd1', 'proposal', '2024-01-10 00:00', 'crm'),
 ('deal', 'd1', 'won', '2024-01-31 00:00', 'crm'),
 ('deal', 'd2', 'opportunity', '2024-01-05 00:00', 'crm'),
 ('deal', 'd2', 'lost', '2024-02-04 00:00', 'crm'),
 ('deal', 'd3', 'opportunity', '2023-12-01 00:00', 'crm'),
 ('deal', 'd3', 'proposal', '2024-01-02 00:00', 'crm'),
 ('deal', 'd3', 'won', '2024-01-20 00:00', 'crm'),
 ('deal', 'd4', 'opportunity', '2024-01-15 00:00', 'crm'),
 ('deal', 'd5', 'opportunity', '2024-01-20 00:00', 'crm'),
 ('deal', 'd6', 'opportunity', '2023-10-01 00:00', 'crm'),
 ('deal', 'd6', 'won', '2023-11-10 00:00', 'crm');
