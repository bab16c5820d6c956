-- 0009: what EventBridge Scheduler's CreateSchedule says beyond 0008: a description, the event format (kind:
-- 'scheduler' delivers Scheduler's default notification when there is no input, 'rule' an EventBridge rule's
-- "Scheduled Event"), the target's role, retry policy (NULL: Scheduler's defaults) and dead-letter queue, what
-- happens after a one-time schedule's last run (NONE or DELETE) and the KMS key it names. schedules_function
-- serves the schedules of one function (the per-function view of its triggers).

ALTER TABLE schedules ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE schedules ADD COLUMN kind TEXT NOT NULL DEFAULT 'scheduler';
ALTER TABLE schedules ADD COLUMN role_arn TEXT;
ALTER TABLE schedules ADD COLUMN retry_max_attempts INTEGER;
ALTER TABLE schedules ADD COLUMN retry_max_event_age_s INTEGER;
ALTER TABLE schedules ADD COLUMN dead_letter_arn TEXT;
ALTER TABLE schedules ADD COLUMN action_after_completion TEXT NOT NULL DEFAULT 'NONE';
ALTER TABLE schedules ADD COLUMN kms_key_arn TEXT;

CREATE INDEX schedules_function ON schedules (function_name, name);
