-- Sample warehouse for docker compose: 10,000 users and 50,000 orders.
CREATE SCHEMA analytics;
CREATE TABLE analytics.users AS
SELECT i AS id, 'user' || i || '@example.com' AS email, CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'free' END AS plan,
       now() - make_interval(mins => 100000 - i) AS updated_at
FROM generate_series(1, 10000) AS t(i);
ALTER TABLE analytics.users ADD PRIMARY KEY (id);
CREATE TABLE analytics.orders AS
SELECT i AS id, 1 + (i * 7) % 10000 AS user_id, round((5 + (i * 37) % 500)::numeric, 2) AS amount, 'EUR' AS currency,
       now() - make_interval(mins => 100000 - i) AS created_at, now() - make_interval(mins => 100000 - i) AS updated_at
FROM generate_series(1, 50000) AS t(i);
ALTER TABLE analytics.orders ADD PRIMARY KEY (id);
CREATE INDEX orders_cursor ON analytics.orders (updated_at, id);
