-- A small B2B store for hand-computed account-level paths (UTC, EUR).
-- Account c1 has two people; q2's first touch is anonymous.
INSERT INTO accounts (account_id, name) VALUES ('c1', 'Acme'), ('c2', 'Beta'), ('c3', 'Gamma');
INSERT INTO people (person_id, account_id) VALUES ('q1', 'c1'), ('q2', 'c1'), ('q3', 'c2'), ('q4', 'c3');
INSERT INTO identities VALUES ('anonymous', 'b2', 'q2', '2024-02-01 00:00:00', 'test');
INSERT INTO events (id, ts, type, name, anonymous_id, person_id, account_id, channel, utm_campaign) VALUES
  ('f1', '2024-01-10 10:00:00', 'track', 'webinar_attended', NULL, 'q1', 'c1', 'Webinars', 'w1'),
  ('f2', '2024-02-01 10:00:00', 'page', 'Landing Page', 'b2', NULL, NULL, 'Paid Search', 'brand'),
  ('f3', '2024-02-15 10:00:00', 'track', 'tradeshow_badge_scan', NULL, 'q1', NULL, 'Events', 'fair'),
  ('f4', '2024-03-10 10:00:00', 'page', 'Page Viewed', NULL, 'q2', 'c1', 'Email', NULL),
  -- c3: touches in the period, no deal won: a null path
  ('f5', '2024-03-05 10:00:00', 'page', 'Page Viewed', NULL, 'q4', NULL, 'Display', NULL),
  -- a visitor of no account is no touch of any account
  ('f6', '2024-03-05 10:00:00', 'page', 'Page Viewed', 'zz', NULL, NULL, 'Display', NULL);
INSERT INTO stage_changes VALUES
  ('person', 'q1', 'lead', '2024-01-12 00:00:00', 'test'),
  ('person', 'q2', 'lead', '2024-02-02 00:00:00', 'test'),
  ('person', 'q2', 'mql', '2024-02-20 00:00:00', 'test'),
  ('person', 'q4', 'lead', '2024-03-06 00:00:00', 'test');
INSERT INTO deals (deal_id, account_id, person_id, status, created_at, closed_at, amount, currency) VALUES
  ('d1', 'c1', 'q1', 'won', '2024-03-01 00:00:00', '2024-03-20 00:00:00', 1000, 'EUR'),
  ('d2', 'c2', 'q3', 'won', '2024-03-02 00:00:00', '2024-03-25 00:00:00', 500, 'USD'),
  ('d3', NULL, NULL, 'won', '2024-03-03 00:00:00', '2024-03-26 00:00:00', 100, 'EUR'),
  ('d4', 'c1', 'q2', 'lost', '2024-03-03 00:00:00', '2024-03-27 00:00:00', 100, 'EUR');
INSERT INTO fx_rates VALUES ('2024-01-01', 'USD', 'EUR', 0.9);
