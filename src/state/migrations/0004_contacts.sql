-- 0004: push-contacts (P1-P8).
-- P1/P5: the cards crmsync created, per contacts account. Only these are
-- ever updated, moved or deleted; a card missing here is the user's own.
-- `etag` is the ETag after crmsync's last write (NULL: a write was started
-- but its outcome is not known yet, X5), `content_hash` the SHA-256 of the
-- card written (P7: an unchanged card is not written again).
CREATE TABLE pushed_cards (
  account      TEXT NOT NULL,
  href         TEXT NOT NULL,         -- the card: server path, or path in the vdir
  collection   TEXT NOT NULL,         -- its address book (href ending in '/')
  uid          TEXT NOT NULL,
  record_kind  TEXT NOT NULL CHECK (record_kind IN ('person','company')),
  record_id    TEXT NOT NULL,         -- the CRM's (external) id
  etag         TEXT,
  content_hash TEXT NOT NULL,
  pushed_at    TEXT NOT NULL,
  PRIMARY KEY (account, href)
) STRICT;
CREATE UNIQUE INDEX pushed_cards_record ON pushed_cards(account, record_kind, record_id);

-- P8: the last successful push per account (times_per_day).
CREATE TABLE contact_pushes (
  account      TEXT PRIMARY KEY,
  last_push_at TEXT NOT NULL
) STRICT;
