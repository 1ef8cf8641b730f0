-- 0007: X5 with the REST back end (issue 16). A create whose answer never
-- came (the run was killed, the answer cut, the request timed out) may
-- still be stored by the CRM later, after the next run looked for its
-- reference marker and sent it again. Until `doubt_until` (RFC 3339) every
-- push looks for the marker again and deletes the extra copies, keeping
-- the one `remote_id` names; the first push after it looks a last time and
-- clears it. NULL: no create of this record is in doubt.
ALTER TABLE rest_records ADD COLUMN doubt_until TEXT;
