-- 0005: sync-calendar (C1-C12).
-- C4/C10: what the CRM holds of a calendar activity beyond subject, text
-- and participants, exactly as iCalendar gave it (JSON: start, end, due
-- as CalTime text with their zone, rrule, rdate, exdate, overrides).
-- start_at/end_at/due_at keep the UTC instants for sorting and reports.
ALTER TABLE activities ADD COLUMN calendar TEXT;
-- X5: the UID an activity has in the calendar, written before the item is
-- created on the server, so that a run killed after the PUT finds the item
-- again instead of creating a second one.
ALTER TABLE activities ADD COLUMN calendar_uid TEXT;

-- The linked pairs: a calendar resource and its activity, with the state
-- both sides agreed on at the last sync (C5, C11). activity_id has no
-- foreign key: an activity deleted in the CRM must stay visible here as a
-- deletion to carry to the calendar (C7).
CREATE TABLE calendar_items (
  account      TEXT NOT NULL,
  href         TEXT NOT NULL,         -- server path, or path in the vdir
  collection   TEXT NOT NULL,         -- ends in '/'
  uid          TEXT NOT NULL,
  activity_id  INTEGER NOT NULL,
  etag         TEXT,                  -- NULL: written, ETag not known yet
  gw_hash      TEXT NOT NULL,         -- ical::content_hash
  crm_hash     TEXT NOT NULL,         -- plan::calendar::crm_hash
  link_pending INTEGER NOT NULL DEFAULT 0,   -- C8 link still to write
  synced_at    TEXT NOT NULL,
  PRIMARY KEY (account, href)
) STRICT;
CREATE UNIQUE INDEX calendar_items_activity ON calendar_items(account, activity_id);

-- C6: the conflict log, read per account.
CREATE INDEX conflicts_account ON conflicts(account, id);
