-- Hand-computed event-funnel journeys (funnel_test.go): steps view, cart,
-- buy {plan: pro}; exclusion remove.
INSERT INTO people (person_id, account_id, channel) VALUES
 ('e1', 'K1', 'Paid Social'), ('e2', 'K1', NULL), ('e3', NULL, NULL), ('e4', 'K2', NULL), ('e5', 'K2', NULL),
 ('e6', 'K3', NULL), ('e7', NULL, NULL), ('e8', NULL, NULL), ('e9', NULL, NULL), ('e10', NULL, NULL);
INSERT INTO events (id, ts, type, name, person_id, properties) VALUES
 -- e1: a plain conversion
 ('e1-a', '2024-03-01 10:00', 'track', 'view', 'e1', NULL),
 ('e1-b', '2024-03-01 11:00', 'track', 'cart', 'e1', NULL),
 ('e1-c', '2024-03-01 12:00', 'track', 'buy', 'e1', '{"plan": "pro"}'),
 -- e2: repeated first step; only the second attempt fits the window
 ('e2-a1', '2024-03-01 09:00', 'track', 'view', 'e2', NULL),
 ('e2-a2', '2024-03-01 10:00', 'track', 'view', 'e2', NULL),
 ('e2-b', '2024-03-02 09:30', 'track', 'cart', 'e2', NULL),
 ('e2-c', '2024-03-02 09:45', 'track', 'buy', 'e2', '{"plan": "pro", "coupon": "x"}'),
 -- e3: all three steps at one instant; ids sort buy, view, cart
 ('e3-1', '2024-03-01 10:00', 'track', 'buy', 'e3', '{"plan": "pro"}'),
 ('e3-2', '2024-03-01 10:00', 'track', 'view', 'e3', NULL),
 ('e3-3', '2024-03-01 10:00', 'track', 'cart', 'e3', NULL),
 -- e4: the second step falls outside the window
 ('e4-a', '2024-03-01 10:00', 'track', 'view', 'e4', NULL),
 ('e4-b', '2024-03-03 10:00', 'track', 'cart', 'e4', NULL),
 -- e5: cart before view
 ('e5-b', '2024-03-01 09:00', 'track', 'cart', 'e5', NULL),
 ('e5-a', '2024-03-01 10:00', 'track', 'view', 'e5', NULL),
 ('e5-c', '2024-03-01 11:00', 'track', 'buy', 'e5', '{"plan": "pro"}'),
 -- e6: converts through the exclusion step between view and cart
 ('e6-a', '2024-03-01 10:00', 'track', 'view', 'e6', NULL),
 ('e6-x', '2024-03-01 10:30', 'track', 'remove', 'e6', NULL),
 ('e6-b', '2024-03-01 11:00', 'track', 'cart', 'e6', NULL),
 ('e6-c', '2024-03-01 12:00', 'track', 'buy', 'e6', '{"plan": "pro"}'),
 -- e7: the exclusion event comes after cart
 ('e7-a', '2024-03-01 10:00', 'track', 'view', 'e7', NULL),
 ('e7-b', '2024-03-01 11:00', 'track', 'cart', 'e7', NULL),
 ('e7-x', '2024-03-01 11:30', 'track', 'remove', 'e7', NULL),
 ('e7-c', '2024-03-01 12:00', 'track', 'buy', 'e7', '{"plan": "pro"}'),
 -- e8: buys the wrong plan
 ('e8-a', '2024-03-01 10:00', 'track', 'view', 'e8', NULL),
 ('e8-b', '2024-03-01 11:00', 'track', 'cart', 'e8', NULL),
 ('e8-c', '2024-03-01 12:00', 'track', 'buy', 'e8', '{"plan": "basic"}'),
 -- e9: another event between view and cart
 ('e9-a', '2024-03-01 10:00', 'track', 'view', 'e9', NULL),
 ('e9-h', '2024-03-01 10:10', 'page', 'Help', 'e9', NULL),
 ('e9-b', '2024-03-01 10:20', 'track', 'cart', 'e9', NULL),
 ('e9-c', '2024-03-01 10:30', 'track', 'buy', 'e9', '{"plan": "pro"}'),
 -- e10: viewed before the period
 ('e10-a', '2024-02-29 23:00', 'track', 'view', 'e10', NULL),
 ('e10-b', '2024-03-01 01:00', 'track', 'cart', 'e10', NULL),
 ('e10-c', '2024-03-01 02:00', 'track', 'buy', 'e10', '{"plan": "pro"}'),
 -- anonymous: not counted
 ('anon-a', '2024-03-01 10:00', 'track', 'view', NULL, NULL);
