-- A small B2B dataset whose report is computed by hand in report_test.go.
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 'EUR', 0.9);

INSERT INTO spend (date, source, channel, campaign, impressions, clicks, cost, currency, cost_type) VALUES
 ('2023-12-31', 'linkedin', 'Paid Social', 'abm', 100, 1, 999, 'EUR', 'media'),
 ('2024-01-10', 'linkedin', 'Paid Social', 'abm', 10000, 100, 500, 'EUR', 'media'),
 ('2024-01-20', 'google', 'Paid Search', 'brand', 2000, 200, 110, 'USD', 'media'),
 ('2024-02-05', 'linkedin', 'Paid Social', 'abm', 5000, 50, 250, 'EUR', 'media'),
 ('2024-02-10', 'tradeshow', 'Events', 'hannover', NULL, NULL, 1000, 'EUR', 'events'),
 ('2024-02-11', 'hubspot', 'Paid Social', 'abm', NULL, NULL, 300, 'EUR', 'tools');

INSERT INTO accounts (account_id, name, channel, utm_source, utm_campaign) VALUES
 ('A', 'Acme Pumps', 'Paid Social', 'linkedin', 'abm'),
 ('B', 'Bolt Works', 'Paid Search', 'google', 'brand'),
 ('C', 'Crane Co', NULL, NULL, NULL);

INSERT INTO people (person_id, account_id, channel, utm_source, utm_campaign) VALUES
 ('p1', 'A', 'Paid Social', 'linkedin', 'abm'),
 ('p2', 'A', 'Paid Social', 'linkedin', 'abm'),
 ('p3', 'B', 'Paid Search', 'google', 'brand'),
 ('p4', 'C', NULL, NULL, NULL),
 ('p5', NULL, 'Paid Social', 'linkedin', 'abm');

INSERT INTO stage_changes VALUES
 ('person', 'p1', 'lead', '2024-01-11 09:00', 'crm'),
 ('person', 'p1', 'mql', '2024-01-15 09:00', 'crm'),
 ('person', 'p1', 'sql', '2024-02-01 09:00', 'crm'),
 ('person', 'p2', 'lead', '2024-01-12 09:00', 'crm'),
 ('person', 'p2', 'lead', '2024-02-02 09:00', 'crm'),   -- repeated: only the first counts
 ('person', 'p2', 'mql', '2024-02-03 09:00', 'crm'),
 ('person', 'p3', 'mql', '2024-01-25 09:00', 'crm'),    -- skipped lead: counts as a lead on this date
 ('person', 'p3', 'sql', '2024-01-30 09:00', 'crm'),
 ('person', 'p4', 'lead', '2024-02-12 09:00', 'crm'),
 ('person', 'p5', 'lead', '2023-12-20 09:00', 'crm'),   -- lead before the range
 ('person', 'p5', 'mql', '2024-01-05 09:00', 'crm'),
 ('deal', 'd1', 'opportunity', '2024-01-20 09:00', 'crm'); -- deal-level stages are not person leads

INSERT INTO deals (deal_id, account_id, status, created_at, closed_at, amount, currency) VALUES
 ('d1', 'A', 'won', '2024-01-20 09:00', '2024-02-15 12:00', 10000, 'EUR'),
 ('d2', 'B', 'won', '2024-01-02 09:00', '2024-01-31 12:00', 2000, 'USD'),
 ('d3', 'B', 'lost', '2024-01-02 09:00', '2024-02-01 12:00', 7000, 'EUR'),
 ('d4', 'A', 'won', '2023-09-01 09:00', '2023-11-01 12:00', 5000, 'EUR'),
 ('d5', 'A', 'open', '2024-02-01 09:00', NULL, 3000, 'EUR');

INSERT INTO orders (order_id, customer_id, ts, amount, currency, status) VALUES
 ('o1', 'C', '2024-02-20 10:00', 300, 'EUR', 'paid'),
 ('o2', 'C', '2024-02-21 10:00', 100, 'EUR', 'refunded');

INSERT INTO events (id, ts, type, name, anonymous_id, person_id, account_id, utm_source, utm_campaign, channel) VALUES
 ('e1', '2024-01-10 08:00', 'page', NULL, 'x1', NULL, NULL, 'linkedin', 'abm', 'Paid Social'),
 ('e2', '2024-01-11 08:00', 'page', NULL, 'x1', NULL, NULL, 'linkedin', 'abm', 'Paid Social'),
 ('e3', '2024-01-20 08:00', 'page', NULL, 'x3', 'p3', 'B', 'google', 'brand', 'Paid Search'),
 ('e4', '2024-01-21 08:00', 'track', 'whitepaper_download', 'x3', 'p3', 'B', 'google', 'brand', 'Paid Search'),
 ('e5', '2024-02-10 08:00', 'page', NULL, 'x4', 'p4', 'C', 'tradeshow', 'hannover', 'Events'),
 ('e6', '2024-03-01 08:00', 'page', NULL, 'x9', NULL, NULL, 'google', 'brand', 'Paid Search');  -- after the range
