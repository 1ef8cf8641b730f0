-- 0001: the embedded CRM (SPEC 1, B1) and the sync state (X2, X5, M3, C5).
-- With the REST back end (B2) the directory tables are its cache.

CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Users come from the config ([[users]]) and are refreshed on every run.
CREATE TABLE users (
  login        TEXT PRIMARY KEY,
  display_name TEXT
) STRICT;

CREATE TABLE user_emails (
  email    TEXT PRIMARY KEY,          -- normalised: trimmed, lower case
  login    TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE ON UPDATE CASCADE,
  position INTEGER NOT NULL           -- 0 = primary
) STRICT;

CREATE TABLE user_groups (
  login      TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE ON UPDATE CASCADE,
  group_name TEXT NOT NULL,
  PRIMARY KEY (login, group_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE companies (
  id           INTEGER PRIMARY KEY,
  ext_id       TEXT UNIQUE,           -- the caller's id (crm import) or the REST CRM's id
  name         TEXT NOT NULL,
  kind         TEXT NOT NULL DEFAULT 'customer',
  email        TEXT,                  -- main e-mail, normalised
  email_domain TEXT,                  -- its domain (M10)
  rep          TEXT,                  -- a user login
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX companies_email_domain ON companies(email_domain);

CREATE TABLE company_domains (
  domain     TEXT NOT NULL,           -- lower case
  company_id INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  PRIMARY KEY (domain, company_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX company_domains_company ON company_domains(company_id);

CREATE TABLE company_groups (
  company_id INTEGER NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  group_name TEXT NOT NULL,
  PRIMARY KEY (company_id, group_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE persons (
  id         INTEGER PRIMARY KEY,
  ext_id     TEXT UNIQUE,
  first_name TEXT NOT NULL DEFAULT '',
  last_name  TEXT NOT NULL DEFAULT '',
  company_id INTEGER REFERENCES companies(id) ON DELETE SET NULL,
  rep        TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX persons_company ON persons(company_id);
CREATE INDEX persons_rep ON persons(rep);
CREATE INDEX persons_last_name ON persons(last_name COLLATE NOCASE);

-- Primary key starts with the address: matching (SPEC 1) is one index probe.
CREATE TABLE person_emails (
  email     TEXT NOT NULL,            -- normalised
  person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,         -- 0 = primary
  PRIMARY KEY (email, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX person_emails_person ON person_emails(person_id, position);

CREATE TABLE person_phones (
  person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,
  phone     TEXT NOT NULL,
  PRIMARY KEY (person_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE person_groups (
  person_id  INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
  group_name TEXT NOT NULL,
  PRIMARY KEY (person_id, group_name)
) STRICT, WITHOUT ROWID;

CREATE TABLE favorites (
  login     TEXT NOT NULL,
  person_id INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
  PRIMARY KEY (login, person_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX favorites_person ON favorites(person_id);

-- Raw messages and documents, content-addressed (M15).
CREATE TABLE blobs (
  sha256 TEXT PRIMARY KEY,
  data   BLOB NOT NULL
) STRICT;

CREATE TABLE activities (
  id         INTEGER PRIMARY KEY,
  type       TEXT NOT NULL CHECK (type IN ('email_in','email_out','appointment','meeting','follow_up','task')),
  status     TEXT NOT NULL DEFAULT 'I',
  subject    TEXT NOT NULL DEFAULT '',
  body       TEXT,
  start_at   TEXT,
  end_at     TEXT,
  due_at     TEXT,
  person_id  INTEGER REFERENCES persons(id) ON DELETE SET NULL,
  company_id INTEGER REFERENCES companies(id) ON DELETE SET NULL,
  rep        TEXT NOT NULL,
  rule       TEXT,                    -- the SPEC rule that placed it (X9)
  raw_sha256 TEXT REFERENCES blobs(sha256),
  ext_id     TEXT UNIQUE,             -- id in a REST CRM
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX activities_person ON activities(person_id);
CREATE INDEX activities_company ON activities(company_id);
CREATE INDEX activities_rep ON activities(rep, type);

CREATE TABLE activity_participants (
  activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
  address     TEXT NOT NULL,          -- normalised; '' for a person without address
  person_id   INTEGER REFERENCES persons(id) ON DELETE SET NULL,
  role        TEXT NOT NULL DEFAULT 'participant',
  PRIMARY KEY (activity_id, address)
) STRICT, WITHOUT ROWID;
CREATE INDEX activity_participants_person ON activity_participants(person_id);

-- Flagged for editing: one row per reason (and address, where it has one).
CREATE TABLE activity_flags (
  activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
  reason      TEXT NOT NULL,
  address     TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (activity_id, reason, address)
) STRICT, WITHOUT ROWID;

CREATE TABLE attachments (
  id          INTEGER PRIMARY KEY,
  activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  media_type  TEXT,
  size        INTEGER NOT NULL,
  sha256      TEXT,
  category    TEXT,
  keyword     TEXT,
  dropped     INTEGER NOT NULL DEFAULT 0   -- 1: over max_size, not imported (M4)
) STRICT;
CREATE INDEX attachments_activity ON attachments(activity_id);

-- Where an activity came from (M3, C5).
CREATE TABLE activity_sources (
  id           INTEGER PRIMARY KEY,
  activity_id  INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('mail','calendar')),
  account      TEXT NOT NULL,
  folder       TEXT,
  uidvalidity  INTEGER,
  uid          INTEGER,
  message_id   TEXT,
  content_hash TEXT,
  url          TEXT,
  item_uid     TEXT,
  etag         TEXT
) STRICT;
CREATE INDEX activity_sources_activity ON activity_sources(activity_id);
CREATE INDEX activity_sources_message_id ON activity_sources(message_id);
CREATE INDEX activity_sources_hash ON activity_sources(content_hash);
CREATE UNIQUE INDEX activity_sources_mail_uid
  ON activity_sources(account, folder, uidvalidity, uid) WHERE kind = 'mail';

CREATE TABLE unknown_addresses (
  address        TEXT PRIMARY KEY,    -- normalised
  display_names  TEXT NOT NULL DEFAULT '[]',  -- JSON array
  sample_subject TEXT,
  first_seen     TEXT NOT NULL,
  last_seen      TEXT NOT NULL,
  state          TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','resolved','ignored'))
) STRICT;

CREATE TABLE unknown_activities (
  address     TEXT NOT NULL REFERENCES unknown_addresses(address) ON DELETE CASCADE,
  activity_id INTEGER NOT NULL REFERENCES activities(id) ON DELETE CASCADE,
  PRIMARY KEY (address, activity_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX unknown_activities_activity ON unknown_activities(activity_id);

-- M14/U2: an address, or '@domain' for a whole domain.
CREATE TABLE ignored (
  pattern    TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  by         TEXT
) STRICT;

-- U5: every resolution of the unknown queue.
CREATE TABLE resolutions (
  id      INTEGER PRIMARY KEY,
  address TEXT NOT NULL,
  action  TEXT NOT NULL,
  target  TEXT,
  by      TEXT NOT NULL,
  at      TEXT NOT NULL
) STRICT;

-- Sync state ----------------------------------------------------------------

-- X2: accounts blocked after an authentication failure.
CREATE TABLE blocked_accounts (
  account     TEXT PRIMARY KEY,
  reason      TEXT NOT NULL,
  fingerprint TEXT,                   -- salted hash prefix of the failed secret
  blocked_at  TEXT NOT NULL
) STRICT;

-- Per-source cursors. source_key = SHA-256 of (kind, host, port, login,
-- collection). IMAP: validity = UIDVALIDITY, position = highest UID seen.
-- DAV: validity = ctag, position = sync-token.
CREATE TABLE cursors (
  source_key TEXT PRIMARY KEY,
  account    TEXT NOT NULL,
  collection TEXT NOT NULL,
  validity   TEXT,
  position   TEXT,
  updated_at TEXT NOT NULL
) STRICT;

-- The last agreed state of each remote item (UID or href, ETag, content hash).
CREATE TABLE item_map (
  source_key   TEXT NOT NULL,
  remote_id    TEXT NOT NULL,
  local_kind   TEXT NOT NULL,
  local_id     INTEGER,
  etag         TEXT,
  content_hash TEXT,
  synced_at    TEXT NOT NULL,
  PRIMARY KEY (source_key, remote_id)
) STRICT;
CREATE INDEX item_map_local ON item_map(local_kind, local_id);

-- M5: owner notices already sent (never twice for one mail).
CREATE TABLE notices (
  mail_key TEXT PRIMARY KEY,
  account  TEXT NOT NULL,
  sent_at  TEXT NOT NULL
) STRICT;

-- C6: losing versions of conflicts, never just dropped.
CREATE TABLE conflicts (
  id         INTEGER PRIMARY KEY,
  account    TEXT NOT NULL,
  item       TEXT NOT NULL,
  loser      TEXT NOT NULL CHECK (loser IN ('crm','groupware')),
  data       TEXT NOT NULL,
  at         TEXT NOT NULL
) STRICT;

CREATE TABLE runs (
  id          INTEGER PRIMARY KEY,
  command     TEXT NOT NULL,
  pid         INTEGER NOT NULL,
  by          TEXT,
  dry_run     INTEGER NOT NULL DEFAULT 0,
  started_at  TEXT NOT NULL,
  finished_at TEXT,
  exit_code   INTEGER,
  counts      TEXT
) STRICT;
