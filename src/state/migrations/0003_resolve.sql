-- 0003: resolve-unknown (U3, U5).
-- M19/U3: mail imported with privacy = headers keeps its raw header block
-- (never the body), so that a resolution can re-read the parties of the mail
-- and re-evaluate it with the import rules.
ALTER TABLE activities ADD COLUMN headers_sha256 TEXT REFERENCES blobs(sha256);
-- U5: the audit trail is read per address (earlier choices for re-evaluation).
CREATE INDEX resolutions_address ON resolutions(address, id);
