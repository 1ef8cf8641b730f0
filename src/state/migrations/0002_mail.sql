-- 0002: import-mail bookkeeping.
-- X9: the decisions behind an activity's place, one line each (JSON array).
ALTER TABLE activities ADD COLUMN explain TEXT NOT NULL DEFAULT '[]';
-- X5/M16: server actions (keyword, move) still owed after the commit.
ALTER TABLE item_map ADD COLUMN pending TEXT;
CREATE INDEX item_map_pending ON item_map(source_key) WHERE pending IS NOT NULL;
-- M5: a notice is recorded with the item, and sent after the commit.
ALTER TABLE notices ADD COLUMN subject TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN body TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
