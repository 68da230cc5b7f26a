-- Engagement: partner activity, consent, disengagement scores and scheduled reactivation challenges.
-- Written by the engagement worker; read by the review app's engagement view.

-- One row per activity event (from `activity.recorded` messages or bulk imports).
CREATE TABLE activity_events (
    event_id    text PRIMARY KEY,         -- the message_id of `activity.recorded`, or an import key
    program_id  text NOT NULL,
    partner_id  text NOT NULL,
    occurred_at timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('purchase', 'claim', 'login', 'challenge_joined',
                                              'challenge_completed', 'message_opened')),
    quantity    double precision,
    amount      double precision,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX activity_events_by_partner ON activity_events (program_id, partner_id, occurred_at);

-- Partners who agreed to receive challenges (no row = no consent).
CREATE TABLE partner_consent (
    program_id text NOT NULL,
    partner_id text NOT NULL,
    consented  boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, partner_id)
);

-- The latest disengagement score of each partner.
CREATE TABLE partner_scores (
    program_id         text NOT NULL,
    partner_id         text NOT NULL,
    as_of              date NOT NULL,
    score              double precision NOT NULL CHECK (score >= 0 AND score <= 1),
    segment            text NOT NULL,
    expected_purchases double precision NOT NULL,
    reason             text NOT NULL,
    scored_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, partner_id)
);
CREATE INDEX partner_scores_at_risk ON partner_scores (program_id, score DESC);

-- Reactivation challenges. A challenge is published as `challenge.scheduled` once, when send_at
-- has come (status scheduled -> published in the same transaction as its outbox row).
CREATE TABLE challenges (
    challenge_id text PRIMARY KEY,
    program_id   text NOT NULL,
    partner_id   text NOT NULL,
    segment      text NOT NULL,
    goal         integer NOT NULL CHECK (goal > 0),          -- purchases within the window
    window_start timestamptz NOT NULL,
    window_end   timestamptz NOT NULL,
    multiplier   double precision NOT NULL CHECK (multiplier >= 1),
    template     text NOT NULL,
    message      text NOT NULL,
    send_at      timestamptz NOT NULL,
    status       text NOT NULL DEFAULT 'scheduled'
                 CHECK (status IN ('scheduled', 'published', 'cancelled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    CHECK (window_end > window_start)
);
CREATE INDEX challenges_due ON challenges (send_at) WHERE status = 'scheduled';
CREATE INDEX challenges_by_partner ON challenges (program_id, partner_id, created_at);
