-- claimscan invoice worker state. Every statement runs inside the configured schema
-- (search_path), so several deployments or test runs can share one database.

-- One row per upload message (upload_id = idempotency key). `status` moves from 'processing' to
-- exactly one of claimed | review | rejected | parked, in the same transaction as its effects.
CREATE TABLE uploads (
    upload_id       text PRIMARY KEY,
    program_id      text NOT NULL,
    partner_id      text,                 -- NULL after erasure
    bucket          text,
    object_key      text,                 -- NULL after erasure
    content_type    text,
    uploaded_at     timestamptz,
    status          text NOT NULL DEFAULT 'processing'
                    CHECK (status IN ('processing', 'claimed', 'review', 'rejected', 'parked')),
    attempts        integer NOT NULL DEFAULT 0,
    reason_code     text,
    reason_message  text,
    sha256          text,
    fingerprint     text,
    phash           bigint,
    distributor_key text,
    reader          text,
    confidence      real,
    extraction      jsonb,                -- NULL after erasure
    artifacts_prefix text,
    received_at     timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz
);
CREATE INDEX uploads_partner ON uploads (program_id, partner_id);
CREATE INDEX uploads_phash ON uploads (program_id) WHERE phash IS NOT NULL;

-- One claim per invoice per program, across all partners.
CREATE TABLE invoice_fingerprints (
    program_id  text NOT NULL,
    fingerprint text NOT NULL,
    upload_id   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, fingerprint)
);

CREATE TABLE claims (
    claim_id     uuid PRIMARY KEY,
    upload_id    text NOT NULL UNIQUE,
    program_id   text NOT NULL,
    partner_id   text,                    -- NULL after erasure; totals stay for the ledger
    total_points bigint NOT NULL,
    confidence   real NOT NULL,
    decided_by   text NOT NULL CHECK (decided_by IN ('auto', 'manager')),
    invoice_date date,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX claims_partner ON claims (program_id, partner_id, created_at);

CREATE TABLE claim_lines (
    claim_id        uuid NOT NULL REFERENCES claims (claim_id) ON DELETE CASCADE,
    line_no         integer NOT NULL,
    sku             text NOT NULL,
    quantity        double precision NOT NULL,
    points_per_unit double precision NOT NULL,
    multiplier      double precision NOT NULL,
    points          bigint NOT NULL,
    PRIMARY KEY (claim_id, line_no)
);

CREATE TABLE review_tasks (
    task_id     uuid PRIMARY KEY,
    upload_id   text NOT NULL UNIQUE,
    program_id  text NOT NULL,
    partner_id  text,
    reasons     jsonb NOT NULL,
    proposal    jsonb NOT NULL,           -- the points the system would grant
    confidence  real NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'approved', 'rejected')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolved_by text
);
CREATE INDEX review_tasks_open ON review_tasks (program_id, created_at) WHERE status = 'open';

-- Messages to publish, written in the same transaction as the state they announce.
CREATE TABLE outbox (
    id           bigserial PRIMARY KEY,
    message_id   text NOT NULL UNIQUE,
    routing_key  text NOT NULL,
    body         bytea NOT NULL,
    partner_id   text,                    -- for erasure of unpublished messages
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

-- What managers taught: this distributor's code or wording means that SKU (NULL = not ours).
CREATE TABLE distributor_memory (
    program_id      text NOT NULL,
    distributor_key text NOT NULL,
    product_code    text NOT NULL DEFAULT '',
    description     text NOT NULL,
    sku             text,
    confirmed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, distributor_key, product_code, description)
);

-- Messages that could not be decoded (no upload to attach them to).
CREATE TABLE parked_messages (
    id          bigserial PRIMARY KEY,
    reason_code text NOT NULL,
    detail      text NOT NULL,
    body_sha256 text NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now()
);

-- Erasure log: which partner (hashed), when, how much.
CREATE TABLE erasures (
    partner_hash text PRIMARY KEY,
    erased_at    timestamptz NOT NULL DEFAULT now(),
    uploads      integer NOT NULL,
    objects      integer NOT NULL
);
