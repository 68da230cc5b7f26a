-- Shadow mode: a candidate layout model reads each upload beside the live one; how they differed.
CREATE TABLE shadow_results (
    id            bigserial PRIMARY KEY,
    upload_id     text NOT NULL,
    live_reader   text NOT NULL,
    shadow_reader text NOT NULL,
    agree         boolean NOT NULL,
    diff          jsonb NOT NULL,
    recorded_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shadow_results_by_reader ON shadow_results (shadow_reader, recorded_at);
