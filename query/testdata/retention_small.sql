-- The worked retention example of docs/metrics.md (retention_test.go).
INSERT INTO events (id, ts, type, name, person_id) VALUES
 ('u1-s', '2024-01-01 10:00', 'track', 'signup', 'u1'),
 ('u1-1', '2024-01-02 09:00', 'track', 'open', 'u1'),
 ('u1-2', '2024-01-04 12:00', 'track', 'open', 'u1'),
 ('u1-3', '2024-01-08 10:00', 'track', 'open', 'u1'),
 ('u1-4', '2024-01-11 05:00', 'track', 'open', 'u1'),
 ('u2-s', '2024-01-01 23:00', 'track', 'signup', 'u2'),
 ('u2-1', '2024-01-02 01:00', 'track', 'open', 'u2'),
 ('u2-2', '2024-01-03 22:00', 'track', 'open', 'u2'),
 ('u3-s', '2024-01-02 12:00', 'track', 'signup', 'u3'),
 ('u3-p', '2024-01-05 12:00', 'page', 'Pricing', 'u3'),
 ('u4-s', '2024-01-09 12:00', 'track', 'signup', 'u4'),
 ('u4-1', '2024-01-10 13:00', 'track', 'open', 'u4'),
 ('u5-s', '2023-12-31 12:00', 'track', 'signup', 'u5'),
 ('u5-1', '2024-01-01 12:00', 'track', 'open', 'u5'),
 ('u1-s2', '2024-01-05 10:00', 'track', 'signup', 'u1');
