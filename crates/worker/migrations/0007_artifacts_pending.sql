-- The extraction JSON of an upload that is not sent to review is stored in object storage after
-- its decision commits, by the outbox relay of any worker, off the upload's critical path.
-- `artifacts_pending` marks the decided rows whose JSON is not stored yet (see Db::store_pending_artifacts).
-- An upload sent to review still has its JSON and page pictures stored before its commit: its
-- review.requested message names them.
ALTER TABLE uploads ADD COLUMN artifacts_pending boolean NOT NULL DEFAULT false;
CREATE INDEX uploads_artifacts_pending ON uploads (upload_id) WHERE artifacts_pending;
