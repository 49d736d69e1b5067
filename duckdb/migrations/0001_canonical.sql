-- 0001: the canonical schema. All timestamps are UTC (TIMESTAMP without zone);
-- money is DECIMAL(18,4) in the row's own currency, converted at query time.

CREATE TABLE accounts (
    account_id    VARCHAR PRIMARY KEY,
    name          VARCHAR,
    domain        VARCHAR,
    industry      VARCHAR,
    employees     INTEGER,
    region        VARCHAR,
    country       VARCHAR,
    tier          VARCHAR,
    is_target     BOOLEAN NOT NULL DEFAULT false,
    created_at    TIMESTAMP,
    channel       VARCHAR,
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    properties    JSON
);

CREATE TABLE people (
    person_id     VARCHAR PRIMARY KEY,
    email_hash    VARCHAR,
    account_id    VARCHAR,
    role          VARCHAR,
    segment       VARCHAR,
    country       VARCHAR,
    created_at    TIMESTAMP,
    lifecycle_stage VARCHAR,
    channel       VARCHAR,
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    properties    JSON
);

CREATE TABLE identities (
    kind          VARCHAR NOT NULL,   -- 'anonymous' (anonymous_id -> person) or 'alias' (old id -> person)
    alias_id      VARCHAR NOT NULL,
    person_id     VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    source        VARCHAR,
    PRIMARY KEY (kind, alias_id)
);

CREATE TABLE events (
    id            VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    received_at   TIMESTAMP,
    type          VARCHAR NOT NULL,
    name          VARCHAR,
    anonymous_id  VARCHAR,
    person_id     VARCHAR,
    account_id    VARCHAR,
    utm_source    VARCHAR,
    utm_medium    VARCHAR,
    utm_campaign  VARCHAR,
    utm_term      VARCHAR,
    utm_content   VARCHAR,
    click_id_type VARCHAR,
    click_id      VARCHAR,
    referrer      VARCHAR,
    url           VARCHAR,
    channel       VARCHAR,
    revenue       DECIMAL(18,4),
    currency      VARCHAR,
    properties    JSON
);

CREATE TABLE spend (
    date          DATE NOT NULL,
    source        VARCHAR NOT NULL,
    channel       VARCHAR,
    campaign      VARCHAR NOT NULL DEFAULT '',
    ad_group      VARCHAR NOT NULL DEFAULT '',
    creative      VARCHAR NOT NULL DEFAULT '',
    impressions   BIGINT,
    clicks        BIGINT,
    cost          DECIMAL(18,4) NOT NULL,
    currency      VARCHAR NOT NULL,
    platform_conversions DOUBLE,
    platform_installs    BIGINT,
    cost_type     VARCHAR NOT NULL DEFAULT 'media',
    PRIMARY KEY (date, source, campaign, ad_group, creative)
);

CREATE TABLE stage_changes (
    entity_type   VARCHAR NOT NULL,   -- 'person', 'account' or 'deal'
    entity_id     VARCHAR NOT NULL,
    stage         VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    source        VARCHAR,
    PRIMARY KEY (entity_type, entity_id, stage, ts)
);

CREATE TABLE deals (
    deal_id       VARCHAR PRIMARY KEY,
    account_id    VARCHAR,
    person_id     VARCHAR,
    name          VARCHAR,
    owner         VARCHAR,
    pipeline      VARCHAR,
    stage         VARCHAR,
    status        VARCHAR NOT NULL,   -- 'open', 'won' or 'lost'
    created_at    TIMESTAMP NOT NULL,
    closed_at     TIMESTAMP,
    amount        DECIMAL(18,4),
    currency      VARCHAR,
    product_line  VARCHAR,
    lost_reason   VARCHAR,
    properties    JSON
);

CREATE TABLE subscriptions (
    subscription_id VARCHAR NOT NULL,
    valid_from    TIMESTAMP NOT NULL,  -- start of this segment (plan, price and state constant)
    valid_to      TIMESTAMP,           -- end of the segment; NULL while it runs
    customer_id   VARCHAR NOT NULL,
    plan          VARCHAR,
    status        VARCHAR NOT NULL,    -- 'trialing', 'active', 'paused', 'canceled'
    billing_interval VARCHAR,          -- 'day', 'week', 'month', 'year'
    interval_count INTEGER NOT NULL DEFAULT 1,
    amount        DECIMAL(18,4),       -- price per billing interval (all seats)
    quantity      INTEGER NOT NULL DEFAULT 1,
    mrr           DECIMAL(18,4),       -- amount normalised to 30.4375-day months; 0 while trialing or paused
    currency      VARCHAR,
    canceled_at   TIMESTAMP,
    PRIMARY KEY (subscription_id, valid_from)
);

CREATE TABLE orders (
    order_id      VARCHAR PRIMARY KEY,
    customer_id   VARCHAR NOT NULL,
    ts            TIMESTAMP NOT NULL,
    amount        DECIMAL(18,4) NOT NULL,
    gross_margin  DECIMAL(18,4),
    currency      VARCHAR NOT NULL,
    status        VARCHAR NOT NULL DEFAULT 'paid',  -- 'paid' or 'refunded'
    product_line  VARCHAR,
    properties    JSON
);

CREATE TABLE survey_responses (
    response_id   VARCHAR PRIMARY KEY,
    survey        VARCHAR NOT NULL,    -- 'nps', 'csat' or a custom survey name
    person_id     VARCHAR,
    account_id    VARCHAR,
    ts            TIMESTAMP NOT NULL,
    answer        VARCHAR,             -- the raw answer as given
    scale         VARCHAR,             -- '0-10', '1-5' or a named verbal scale
    score         DOUBLE,
    comment       VARCHAR
);

CREATE TABLE fx_rates (
    date          DATE NOT NULL,
    currency      VARCHAR NOT NULL,    -- 1 unit of this currency ...
    base          VARCHAR NOT NULL,    -- ... is worth `rate` units of this one
    rate          DOUBLE NOT NULL,
    PRIMARY KEY (date, currency, base)
);
