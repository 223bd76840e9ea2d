-- notifications: what each user has been told, newest first.
CREATE TABLE notifications.notifications (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    kind        text        NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX notifications_user_created_idx ON notifications.notifications (user_id, created_at DESC, id DESC);
