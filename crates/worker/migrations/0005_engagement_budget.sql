-- Engagement worker: what each challenge may cost, for the program's budget per period.
-- (`(multiplier - 1) x goal x value per purchase` in extra points if the goal is met.)
ALTER TABLE challenges ADD COLUMN expected_cost double precision NOT NULL DEFAULT 0
    CHECK (expected_cost >= 0);
CREATE INDEX challenges_budget ON challenges (program_id, created_at) WHERE status <> 'cancelled';
