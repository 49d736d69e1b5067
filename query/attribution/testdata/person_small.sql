-- A small B2C store for hand-computed person-level paths (UTC, USD).
-- Period March 2024, lookback 30 days, conversion stage:paid.
INSERT INTO identities VALUES
  ('anonymous', 'a1', 'p1', '2024-03-05 09:00:00', 'test'),
  ('anonymous', 'a3', 'p3', '2024-02-10 00:00:00', 'test');
INSERT INTO events (id, ts, type, name, anonymous_id, person_id, channel, utm_campaign) VALUES
  -- p1: an anonymous touch resolved through identities, a repeated channel, a touch after converting
  ('e1', '2024-03-01 10:00:00', 'page', 'Landing Page', 'a1', NULL, 'Paid Social', 'c1'),
  ('e2', '2024-03-05 09:00:00', 'page', 'Page Viewed', 'a1', 'p1', 'Email', 'news'),
  ('e3', '2024-03-06 09:00:00', 'page', 'Page Viewed', NULL, 'p1', 'Email', 'news'),
  ('e4', '2024-03-08 09:00:00', 'page', 'Page Viewed', NULL, 'p1', 'Paid Search', NULL),
  ('e5', '2024-03-12 09:00:00', 'page', 'Page Viewed', NULL, 'p1', 'Display', NULL),
  -- p3: outside the lookback, exactly at its edge, in it, and at the conversion instant
  ('e6', '2024-02-01 11:59:59', 'page', 'Landing Page', 'a3', NULL, 'Organic Search', NULL),
  ('e7', '2024-02-01 12:00:00', 'page', 'Landing Page', 'a3', NULL, 'Referral', NULL),
  ('e8', '2024-02-10 12:00:00', 'page', 'Page Viewed', NULL, 'p3', 'Display', NULL),
  ('e9', '2024-03-02 12:00:00', 'page', 'Page Viewed', NULL, 'p3', 'Paid Video', NULL),
  -- p4: no paid stage (two purchases), touches in the period
  ('e10', '2024-03-01 08:00:00', 'page', 'Page Viewed', NULL, 'p4', 'Organic Social', NULL),
  ('e11', '2024-03-03 08:00:00', 'track', 'purchase', NULL, 'p4', NULL, NULL),
  ('e12', '2024-03-04 08:00:00', 'page', 'Page Viewed', NULL, 'p4', 'Email', 'news'),
  ('e13', '2024-03-06 08:00:00', 'track', 'purchase', NULL, 'p4', NULL, NULL),
  -- p5: never converts
  ('e14', '2024-03-20 08:00:00', 'page', 'Page Viewed', NULL, 'p5', 'Display', NULL),
  -- a6: a visitor never identified
  ('e15', '2024-03-25 08:00:00', 'page', 'Landing Page', 'a6', NULL, 'Paid Social', 'c1'),
  -- p7: touched only before the period
  ('e16', '2024-02-10 08:00:00', 'page', 'Page Viewed', NULL, 'p7', 'Display', NULL),
  -- p8: converted before the period, touched again in it
  ('e17', '2024-02-15 08:00:00', 'page', 'Page Viewed', NULL, 'p8', 'Email', 'news'),
  ('e18', '2024-03-05 08:00:00', 'page', 'Page Viewed', NULL, 'p8', 'Display', NULL),
  -- an event with no channel is no touch
  ('e19', '2024-03-07 08:00:00', 'track', 'app_opened', NULL, 'p1', NULL, NULL);
UPDATE events SET revenue = 10, currency = 'USD' WHERE id = 'e11';
UPDATE events SET revenue = 20, currency = 'EUR' WHERE id = 'e13';
INSERT INTO stage_changes VALUES
  ('person', 'p1', 'signup', '2024-03-05 12:00:00', 'test'),
  ('person', 'p1', 'paid', '2024-03-10 12:00:00', 'test'),
  ('person', 'p2', 'paid', '2024-03-15 12:00:00', 'test'),
  ('person', 'p3', 'paid', '2024-03-02 12:00:00', 'test'),
  ('person', 'p3', 'paid', '2024-03-20 12:00:00', 'test'),
  ('person', 'p8', 'paid', '2024-02-20 12:00:00', 'test');
INSERT INTO fx_rates VALUES ('2024-01-01', 'EUR', 'USD', 1.1);
INSERT INTO spend (date, source, channel, campaign, cost, currency, platform_conversions, cost_type) VALUES
  ('2024-03-01', 'meta', 'Paid Social', 'c1', 100, 'USD', 5, 'media'),
  ('2024-03-02', 'meta', 'Paid Social', 'c2', 20, 'USD', 1, 'media'),
  ('2024-03-03', 'meta', 'Paid Social', 'c1', 999, 'USD', NULL, 'tools'),
  ('2024-03-01', 'google', 'Paid Search', '', 50, 'EUR', 2, 'media'),
  ('2024-02-28', 'google', 'Paid Search', '', 70, 'EUR', 9, 'media');
