-- notifications: a monotonic sequence (the Server-Sent Events id, so a client resumes with
-- Last-Event-ID), the event each notification came from (one notification per event), and a
-- human message.
ALTER TABLE notifications.notifications
    ADD COLUMN seq bigserial UNIQUE,
    ADD COLUMN source_event_id uuid UNIQUE,
    ADD COLUMN message text NOT NULL DEFAULT '';

CREATE INDEX notifications_user_seq_idx ON notifications.notifications (user_id, seq DESC);
