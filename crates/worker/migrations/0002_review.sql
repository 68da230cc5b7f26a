-- Manager review (claimscan review serve): managers, their programs, sessions, the audit of every
-- decision, and the distributor on each review task (for the queue's filter). Applies to a
-- database that already has 0001/0003/0004: it only adds tables, columns, indexes and a trigger.

CREATE TABLE managers (
    manager_id    uuid PRIMARY KEY,
    email         text NOT NULL UNIQUE,          -- stored lower-case
    password_hash text NOT NULL,                 -- argon2id PHC string
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- A manager sees and decides only the tasks of these programs.
CREATE TABLE manager_programs (
    manager_id uuid NOT NULL REFERENCES managers (manager_id) ON DELETE CASCADE,
    program_id text NOT NULL,
    PRIMARY KEY (manager_id, program_id)
);

-- Logged-in sessions: the cookie holds a random token, the table only its sha256.
CREATE TABLE sessions (
    token_sha256 text PRIMARY KEY,
    manager_id   uuid NOT NULL REFERENCES managers (manager_id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,                  -- checked on every POST of the session
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Who decided what, when, before and after.
CREATE TABLE review_audit (
    id            bigserial PRIMARY KEY,
    task_id       uuid NOT NULL,
    upload_id     text NOT NULL,
    program_id    text NOT NULL,
    manager_id    uuid NOT NULL,
    manager_email text NOT NULL,
    action        text NOT NULL CHECK (action IN ('approve', 'correct', 'reject')),
    before        jsonb NOT NULL,
    after         jsonb NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_audit_by_task ON review_audit (task_id);
CREATE INDEX review_audit_by_time ON review_audit (decided_at);

-- The distributor of each task (the queue filters and shows it), filled from the upload that the
-- same transaction has just decided; existing tasks are filled once here.
ALTER TABLE review_tasks
    ADD COLUMN distributor_key  text,
    ADD COLUMN distributor_name text,
    ADD COLUMN reject_reason    text;

CREATE FUNCTION review_tasks_distributor() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.distributor_key IS NULL THEN
        SELECT u.distributor_key, u.extraction #>> '{invoice,header,supplier_name}'
          INTO NEW.distributor_key, NEW.distributor_name
          FROM uploads u WHERE u.upload_id = NEW.upload_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER review_tasks_distributor BEFORE INSERT ON review_tasks
    FOR EACH ROW EXECUTE FUNCTION review_tasks_distributor();

UPDATE review_tasks t
   SET distributor_key = u.distributor_key,
       distributor_name = u.extraction #>> '{invoice,header,supplier_name}'
  FROM uploads u
 WHERE u.upload_id = t.upload_id AND t.distributor_key IS NULL;

-- The queue: open tasks by program, filtered by distributor, reason or confidence, sorted by age
-- or confidence.
CREATE INDEX review_tasks_open_distributor ON review_tasks (program_id, distributor_key, created_at)
    WHERE status = 'open';
CREATE INDEX review_tasks_open_confidence ON review_tasks (program_id, confidence)
    WHERE status = 'open';
CREATE INDEX review_tasks_open_reasons ON review_tasks USING gin (reasons jsonb_path_ops)
    WHERE status = 'open';
