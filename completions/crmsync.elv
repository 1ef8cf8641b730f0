
use builtin;
use str;

set edit:completion:arg-completer[crmsync] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'crmsync'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'crmsync'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Write a commented config through a wizard, testing each connection (X1)'
            cand check 'Test the config, the state file, the CRM and every account (X1)'
            cand unblock 'Clear the lockout guard of an account after fixing its password (X2)'
            cand import-mail 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)'
            cand explain 'Say which rule placed an activity where (X9)'
            cand report 'Imported activities with their assignment and flags (X10)'
            cand resolve-unknown 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)'
            cand push-contacts 'Push CRM persons (and companies) into each user''s address book, one way (P1-P9)'
            cand sync-calendar 'Sync appointments and tasks both ways between each user''s calendar and the CRM (C1-C12)'
            cand crm 'Read and load the CRM directory and activities (embedded back end, B1)'
            cand completions 'Print the shell completion script for SHELL (X21)'
            cand man 'Print the man page crmsync(1), or write every page into a directory (X21)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;init'= {
            cand -o 'Where to write the config [default: the --config path or the XDG path]'
            cand --output 'Where to write the config [default: the --config path or the XDG path]'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --sample 'Write the fully commented sample config without asking anything'
            cand --force 'Replace an existing file'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;check'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --offline 'Do not connect to any server; check only the config, state file and CRM'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;unblock'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --all 'Unblock every blocked account'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;import-mail'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --all-items 'Print every item in the summary, not only those that need attention'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;explain'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;report'= {
            cand --account 'Only activities imported from this account'
            cand --since 'Only activities on or after this date (YYYY-MM-DD or RFC 3339)'
            cand --until 'Only activities on or before this date'
            cand --flag 'Only activities with this flag reason (e.g. unknown_sender)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --flagged 'Only activities flagged for editing'
            cand --unknown 'Only activities linked to an open unknown address'
            cand --csv 'Write CSV instead of a table'
            cand --resolutions 'Show the resolutions of the unknown-address queue instead: what, by whom, when (U5)'
            cand --conflicts 'Show the calendar conflict log instead: each losing version, kept (C6); --account filters'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;resolve-unknown'= {
            cand --assign 'Assign an address to an existing person (by id, as `crm list` shows it); it becomes a further address of the person'
            cand --create 'Create a person for an address; names default to its display name, the company to its domain''s (M10)'
            cand --link-domain 'Add a web domain to a company; every open address at that domain is resolved (M10)'
            cand --ignore 'Ignore an address, or a whole domain written @example.com, from now on (M14)'
            cand --apply 'Apply a CSV file with the columns address,action,target; actions: assign, create, link-domain, ignore, skip'
            cand --by 'Who resolves, for the audit trail (U5) [default: the OS user]'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --list 'List the open unknown addresses and change nothing (U1)'
            cand --all 'With --list: also the resolved and ignored addresses'
            cand --auto-domain 'Link every open address whose domain names exactly one company (M10)'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;push-contacts'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --force 'Push now, even when the last push is more recent than times_per_day allows (P8)'
            cand --all-items 'List every contact in the summary: all changes in the table (not only failures), and the unchanged ones'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;sync-calendar'= {
            cand --send 'Send this CRM activity (of any type) to its rep''s calendar (C9); repeatable'
            cand --as 'What --send makes of the activity'
            cand --unlink 'Remove this activity''s calendar entry; the activity stays (C9); repeatable'
            cand --conflict 'The conflict policy for this run, instead of [calendar] conflict (C6)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --allow-mass-delete 'Carry out deletions even when they exceed max_delete_percent (C7)'
            cand --all-items 'Print every item in the summary, not only those that need attention'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand import 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
            cand list 'Show the directory as a table (or --json)'
            cand export 'Write the directory as CSV in the import layout, or JSON'
            cand pull 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
            cand push 'REST back end (B2): send the activities and persons that wait for the CRM'
            cand activity 'Add, change, show or delete an appointment, meeting, follow-up or task'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;crm;import'= {
            cand --kind 'What the file holds [default: persons for .vcf files]'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;list'= {
            cand --kind 'Which records'
            cand --search 'Only records whose name or e-mail contains this text (case-insensitive)'
            cand --limit 'At most this many rows (0: all)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;export'= {
            cand --kind 'Which records'
            cand --format 'Output format (CSV is the layout `crm import` reads)'
            cand -o 'Write to this file instead of stdout'
            cand --output 'Write to this file instead of stdout'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;pull'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;push'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;activity'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand add 'Add a calendar activity; prints its id'
            cand edit 'Change the fields given; the others stay'
            cand show 'Show an activity with its calendar data, and its occurrences in a window (C4)'
            cand delete 'Delete an activity (sync-calendar then deletes its calendar entry, C7)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;crm;activity;add'= {
            cand --type 'The activity type'
            cand --rep 'Its rep: a user login (the calendar it syncs to)'
            cand --person 'Attach it to this person (CRM id) [default: the rep''s own person record]'
            cand --subject 'Subject (the event''s SUMMARY)'
            cand --text 'Text (the event''s DESCRIPTION)'
            cand --start 'Start: a date, a floating, UTC or zoned time (see above)'
            cand --end 'End'
            cand --due 'Due (tasks)'
            cand --rrule 'Recurrence rule, e.g. FREQ=WEEKLY;COUNT=10 ('''' removes it)'
            cand --exdate 'An excluded occurrence (a time as for --start); repeatable, replaces the list'
            cand --participant 'A participant''s e-mail address; repeatable, replaces the list'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;activity;edit'= {
            cand --subject 'Subject (the event''s SUMMARY)'
            cand --text 'Text (the event''s DESCRIPTION)'
            cand --start 'Start: a date, a floating, UTC or zoned time (see above)'
            cand --end 'End'
            cand --due 'Due (tasks)'
            cand --rrule 'Recurrence rule, e.g. FREQ=WEEKLY;COUNT=10 ('''' removes it)'
            cand --exdate 'An excluded occurrence (a time as for --start); repeatable, replaces the list'
            cand --participant 'A participant''s e-mail address; repeatable, replaces the list'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;activity;show'= {
            cand --from 'List occurrences from this date (YYYY-MM-DD)'
            cand --to '... up to this date (exclusive)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;activity;delete'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;crm;activity;help'= {
            cand add 'Add a calendar activity; prints its id'
            cand edit 'Change the fields given; the others stay'
            cand show 'Show an activity with its calendar data, and its occurrences in a window (C4)'
            cand delete 'Delete an activity (sync-calendar then deletes its calendar entry, C7)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;crm;activity;help;add'= {
        }
        &'crmsync;crm;activity;help;edit'= {
        }
        &'crmsync;crm;activity;help;show'= {
        }
        &'crmsync;crm;activity;help;delete'= {
        }
        &'crmsync;crm;activity;help;help'= {
        }
        &'crmsync;crm;help'= {
            cand import 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
            cand list 'Show the directory as a table (or --json)'
            cand export 'Write the directory as CSV in the import layout, or JSON'
            cand pull 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
            cand push 'REST back end (B2): send the activities and persons that wait for the CRM'
            cand activity 'Add, change, show or delete an appointment, meeting, follow-up or task'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;crm;help;import'= {
        }
        &'crmsync;crm;help;list'= {
        }
        &'crmsync;crm;help;export'= {
        }
        &'crmsync;crm;help;pull'= {
        }
        &'crmsync;crm;help;push'= {
        }
        &'crmsync;crm;help;activity'= {
            cand add 'Add a calendar activity; prints its id'
            cand edit 'Change the fields given; the others stay'
            cand show 'Show an activity with its calendar data, and its occurrences in a window (C4)'
            cand delete 'Delete an activity (sync-calendar then deletes its calendar entry, C7)'
        }
        &'crmsync;crm;help;activity;add'= {
        }
        &'crmsync;crm;help;activity;edit'= {
        }
        &'crmsync;crm;help;activity;show'= {
        }
        &'crmsync;crm;help;activity;delete'= {
        }
        &'crmsync;crm;help;help'= {
        }
        &'crmsync;completions'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;man'= {
            cand --dir 'Write crmsync.1 and every subcommand''s page into this directory instead (created if missing)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]'
            cand --state 'State file (SQLite), overrides `state` in the config'
            cand --json 'Print one JSON document on stdout instead of tables (X6)'
            cand -y 'Take every default and never wait for input (W6)'
            cand --yes 'Take every default and never wait for input (W6)'
            cand --non-interactive 'Take every default and never wait for input (W6)'
            cand --dry-run 'Print the plan and write nothing anywhere (X8)'
            cand -q 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand --quiet 'Print nothing on success; errors and warnings still go to stderr (X14)'
            cand -v 'Print more about what happens (repeat for more)'
            cand --verbose 'Print more about what happens (repeat for more)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
        }
        &'crmsync;help'= {
            cand init 'Write a commented config through a wizard, testing each connection (X1)'
            cand check 'Test the config, the state file, the CRM and every account (X1)'
            cand unblock 'Clear the lockout guard of an account after fixing its password (X2)'
            cand import-mail 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)'
            cand explain 'Say which rule placed an activity where (X9)'
            cand report 'Imported activities with their assignment and flags (X10)'
            cand resolve-unknown 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)'
            cand push-contacts 'Push CRM persons (and companies) into each user''s address book, one way (P1-P9)'
            cand sync-calendar 'Sync appointments and tasks both ways between each user''s calendar and the CRM (C1-C12)'
            cand crm 'Read and load the CRM directory and activities (embedded back end, B1)'
            cand completions 'Print the shell completion script for SHELL (X21)'
            cand man 'Print the man page crmsync(1), or write every page into a directory (X21)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'crmsync;help;init'= {
        }
        &'crmsync;help;check'= {
        }
        &'crmsync;help;unblock'= {
        }
        &'crmsync;help;import-mail'= {
        }
        &'crmsync;help;explain'= {
        }
        &'crmsync;help;report'= {
        }
        &'crmsync;help;resolve-unknown'= {
        }
        &'crmsync;help;push-contacts'= {
        }
        &'crmsync;help;sync-calendar'= {
        }
        &'crmsync;help;crm'= {
            cand import 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
            cand list 'Show the directory as a table (or --json)'
            cand export 'Write the directory as CSV in the import layout, or JSON'
            cand pull 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
            cand push 'REST back end (B2): send the activities and persons that wait for the CRM'
            cand activity 'Add, change, show or delete an appointment, meeting, follow-up or task'
        }
        &'crmsync;help;crm;import'= {
        }
        &'crmsync;help;crm;list'= {
        }
        &'crmsync;help;crm;export'= {
        }
        &'crmsync;help;crm;pull'= {
        }
        &'crmsync;help;crm;push'= {
        }
        &'crmsync;help;crm;activity'= {
            cand add 'Add a calendar activity; prints its id'
            cand edit 'Change the fields given; the others stay'
            cand show 'Show an activity with its calendar data, and its occurrences in a window (C4)'
            cand delete 'Delete an activity (sync-calendar then deletes its calendar entry, C7)'
        }
        &'crmsync;help;crm;activity;add'= {
        }
        &'crmsync;help;crm;activity;edit'= {
        }
        &'crmsync;help;crm;activity;show'= {
        }
        &'crmsync;help;crm;activity;delete'= {
        }
        &'crmsync;help;completions'= {
        }
        &'crmsync;help;man'= {
        }
        &'crmsync;help;help'= {
        }
    ]
    $completions[$command]
}
