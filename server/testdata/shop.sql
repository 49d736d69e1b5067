-- A small B2C shop (preset b2c: USD, UTC, leads = signup, MQLs = trial),
-- shared by the API and browser tests. Two paid channels with spend, one
-- organic channel without; the period 2025-01-01..2025-03-31 and its
-- previous period 2024-10-03..2024-12-31 both have figures. Paid Social
-- has leads but no customer (CAC empty); Organic Search has a customer but
-- no spend (CPL, CAC, ROAS, ROMI empty).

INSERT INTO spend (date, source, channel, campaign, impressions, clicks, cost, currency) VALUES
    ('2024-12-15', 'facebook', 'Paid Social', 'winter', 3000, 40, 80.00, 'USD'),
    ('2025-01-10', 'google',   'Paid Search', 'brand',  1000, 100, 250.00, 'USD'),
    ('2025-02-10', 'google',   'Paid Search', 'brand',  2000, 150, 300.50, 'USD'),
    ('2025-03-05', 'facebook', 'Paid Social', 'spring', 5000, 80, 120.25, 'USD'),
    ('2025-03-20', 'google',   'Paid Search', 'generic', 1500, 90, 200.00, 'USD');

INSERT INTO people (person_id, created_at, channel, utm_source, utm_campaign) VALUES
    ('p1', '2025-01-12 09:00:00', 'Paid Search', 'google', 'brand'),
    ('p2', '2025-02-14 10:30:00', 'Paid Search', 'google', 'brand'),
    ('p3', '2025-03-07 18:15:00', 'Paid Social', 'facebook', 'spring'),
    ('p4', '2025-03-10 08:00:00', 'Organic Search', 'google', NULL),
    ('p5', '2024-12-20 12:00:00', 'Paid Social', 'facebook', 'winter');

INSERT INTO stage_changes (entity_type, entity_id, stage, ts) VALUES
    ('person', 'p1', 'signup', '2025-01-12 09:05:00'),
    ('person', 'p1', 'trial',  '2025-01-13 09:00:00'),
    ('person', 'p1', 'paid',   '2025-01-20 09:00:00'),
    ('person', 'p2', 'signup', '2025-02-14 10:35:00'),
    ('person', 'p2', 'trial',  '2025-02-15 10:00:00'),
    ('person', 'p3', 'signup', '2025-03-07 18:20:00'),
    ('person', 'p4', 'signup', '2025-03-10 08:05:00'),
    ('person', 'p4', 'paid',   '2025-03-12 08:00:00'),
    ('person', 'p5', 'signup', '2024-12-20 12:05:00'),
    ('person', 'p5', 'paid',   '2024-12-22 12:00:00');

INSERT INTO orders (order_id, customer_id, ts, amount, currency, status) VALUES
    ('o1', 'p1', '2025-01-20 09:00:00', 49.99, 'USD', 'paid'),
    ('o2', 'p1', '2025-02-20 09:00:00', 49.99, 'USD', 'paid'),
    ('o3', 'p4', '2025-03-12 08:00:00', 99.00, 'USD', 'paid'),
    ('o4', 'p5', '2024-12-22 12:00:00', 29.00, 'USD', 'paid'),
    ('o5', 'p2', '2025-03-01 10:00:00', 10.00, 'USD', 'refunded');

INSERT INTO events (id, ts, type, name, anonymous_id, person_id, channel, utm_source) VALUES
    ('e1', '2025-01-11 20:00:00', 'page', NULL, 'a1', NULL, 'Paid Search', 'google'),
    ('e2', '2025-01-12 09:00:00', 'page', NULL, 'a1', 'p1', 'Paid Search', 'google'),
    ('e3', '2025-03-07 18:00:00', 'page', NULL, 'a3', NULL, 'Paid Social', 'facebook');
