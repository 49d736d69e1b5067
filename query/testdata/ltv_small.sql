-- A small B2C dataset whose lifetime value and payback are computed by
-- hand in ltv_test.go and payback_test.go (clock: 2024-04-15, UTC, USD).
INSERT INTO people (person_id, channel, utm_source, utm_campaign) VALUES
 ('p1', 'Paid Social', 'meta', 'c1'),
 ('p2', 'Paid Social', 'meta', 'c1'),
 ('p3', 'Organic Search', 'google', NULL),
 ('p4', NULL, NULL, NULL);

INSERT INTO orders (order_id, customer_id, ts, amount, gross_margin, currency, status) VALUES
 ('o1', 'p1', '2024-01-10 10:00', 100, 60, 'USD', 'paid'),
 ('o2', 'p1', '2024-02-15 10:00', 50, NULL, 'USD', 'paid'),
 ('o3', 'p1', '2024-04-01 10:00', 20, 10, 'USD', 'paid'),
 ('o4', 'p2', '2024-01-20 10:00', 40, 20, 'USD', 'paid'),
 ('o5', 'p2', '2024-01-25 10:00', 999, 500, 'USD', 'refunded'),
 ('o6', 'p3', '2024-02-05 10:00', 200, 100, 'USD', 'paid'),
 ('o7', 'p3', '2024-02-20 10:00', 100, 50, 'USD', 'paid'),
 ('o8', 'p3', '2024-03-03 10:00', 10, 5, 'USD', 'paid'),
 ('o9', 'p4', '2024-03-15 10:00', 30, 15, 'USD', 'paid'),
 ('o10', 'p4', '2024-04-20 10:00', 70, 35, 'USD', 'paid');   -- after the clock: not seen

INSERT INTO spend (date, source, channel, campaign, cost, currency, cost_type) VALUES
 ('2024-01-05', 'meta', 'Paid Social', 'c1', 300, 'USD', 'media'),
 ('2024-02-03', 'meta', 'Paid Social', 'c1', 100, 'USD', 'media'),
 ('2024-02-10', 'meta', 'Paid Social', 'c1', 50, 'USD', 'tools'),
 ('2024-03-01', 'dv360', 'Display', 'd1', 80, 'USD', 'media');

INSERT INTO subscriptions (subscription_id, valid_from, valid_to, customer_id, plan, status, billing_interval, amount, mrr, currency) VALUES
 ('s1', '2024-01-10 10:00', NULL, 'p1', 'monthly', 'active', 'month', 50, 50, 'USD'),
 ('s2', '2024-01-20 10:00', '2024-02-20 10:00', 'p2', 'monthly', 'active', 'month', 40, 40, 'USD'),
 ('s3', '2024-02-05 10:00', '2024-03-10 10:00', 'p3', 'pro', 'active', 'month', 100, 100, 'USD'),
 ('s3', '2024-03-10 10:00', NULL, 'p3', 'basic', 'active', 'month', 60, 60, 'USD'),
 ('s4', '2024-03-01 10:00', '2024-03-15 10:00', 'p4', 'annual', 'trialing', 'year', 0, 0, 'USD'),
 ('s4', '2024-03-15 10:00', NULL, 'p4', 'annual', 'active', 'year', 120, NULL, 'USD');
