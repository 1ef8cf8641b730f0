-- 0006: the REST back end (B2). The directory tables stay the CRM as the
-- commands see it; these rows tie each local record to its record in the
-- REST CRM and hold the outbox of writes not yet acknowledged.

-- One row per local record that exists (or is being created) in the REST
-- CRM. `state`:
--   'sending' - committed BEFORE the create request goes out: a run killed
--               after the CRM stored it but before we heard finds it again
--               by `marker` (BottleCRM has no client-set external id);
--   'sent'    - acknowledged: `remote_id` is the CRM's id;
--   'pulled'  - came from the CRM (directory cache); never pushed back.
-- `hash` is the hash of the fields as last sent or seen: a local change
-- (hash differs) is pushed as an update, a change in the CRM (its fields
-- hash differs) is taken over (calendar round trip).
CREATE TABLE rest_records (
  kind        TEXT NOT NULL CHECK (kind IN ('person','company','activity')),
  local_id    INTEGER NOT NULL,
  remote_kind TEXT NOT NULL,          -- the preset's resource: contact, account, interaction, task
  remote_id   TEXT,                   -- NULL while 'sending'
  state       TEXT NOT NULL CHECK (state IN ('sending','sent','pulled')),
  marker      TEXT,
  hash        TEXT,
  remote_hash TEXT,
  link        TEXT,                   -- for activities: the CRM record it hangs on
  error       TEXT,                   -- the CRM's last refusal (4xx), shown by `crm push`
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (kind, local_id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX rest_records_remote ON rest_records(remote_kind, remote_id);
