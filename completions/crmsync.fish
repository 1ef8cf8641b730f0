# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_crmsync_global_optspecs
    string join \n config= state= json y/yes dry-run q/quiet v/verbose h/help V/version
end

function __fish_crmsync_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_crmsync_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_crmsync_using_subcommand
    set -l cmd (__fish_crmsync_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c crmsync -n "__fish_crmsync_needs_command" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_needs_command" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_needs_command" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_needs_command" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_needs_command" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_needs_command" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_needs_command" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_needs_command" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_needs_command" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "init" -d 'Write a commented config through a wizard, testing each connection (X1)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "check" -d 'Test the config, the state file, the CRM and every account (X1)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "unblock" -d 'Clear the lockout guard of an account after fixing its password (X2)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "import-mail" -d 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "explain" -d 'Say which rule placed an activity where (X9)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "report" -d 'Imported activities with their assignment and flags (X10)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "resolve-unknown" -d 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "push-contacts" -d 'Push CRM persons (and companies) into each user\'s address book, one way (P1-P9)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "sync-calendar" -d 'Sync appointments and tasks both ways between each user\'s calendar and the CRM (C1-C12)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "crm" -d 'Read and load the CRM directory and activities (embedded back end, B1)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "completions" -d 'Print the shell completion script for SHELL (X21)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "man" -d 'Print the man page crmsync(1), or write every page into a directory (X21)'
complete -c crmsync -n "__fish_crmsync_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s o -l output -d 'Where to write the config [default: the --config path or the XDG path]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l sample -d 'Write the fully commented sample config without asking anything'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l force -d 'Replace an existing file'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand init" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -l offline -d 'Do not connect to any server; check only the config, state file and CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand check" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -l all -d 'Unblock every blocked account'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand unblock" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -l all-items -d 'Print every item in the summary, not only those that need attention'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand import-mail" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand explain" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l account -d 'Only activities imported from this account' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l since -d 'Only activities on or after this date (YYYY-MM-DD or RFC 3339)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l until -d 'Only activities on or before this date' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l flag -d 'Only activities with this flag reason (e.g. unknown_sender)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l flagged -d 'Only activities flagged for editing'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l unknown -d 'Only activities linked to an open unknown address'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l csv -d 'Write CSV instead of a table'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l resolutions -d 'Show the resolutions of the unknown-address queue instead: what, by whom, when (U5)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l conflicts -d 'Show the calendar conflict log instead: each losing version, kept (C6); --account filters'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand report" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l assign -d 'Assign an address to an existing person (by id, as `crm list` shows it); it becomes a further address of the person' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l create -d 'Create a person for an address; names default to its display name, the company to its domain\'s (M10)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l link-domain -d 'Add a web domain to a company; every open address at that domain is resolved (M10)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l ignore -d 'Ignore an address, or a whole domain written @example.com, from now on (M14)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l apply -d 'Apply a CSV file with the columns address,action,target; actions: assign, create, link-domain, ignore, skip' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l by -d 'Who resolves, for the audit trail (U5) [default: the OS user]' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l list -d 'List the open unknown addresses and change nothing (U1)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l all -d 'With --list: also the resolved and ignored addresses'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l auto-domain -d 'Link every open address whose domain names exactly one company (M10)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crmsync -n "__fish_crmsync_using_subcommand resolve-unknown" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l force -d 'Push now, even when the last push is more recent than times_per_day allows (P8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l all-items -d 'List every contact in the summary: all changes in the table (not only failures), and the unchanged ones'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crmsync -n "__fish_crmsync_using_subcommand push-contacts" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l send -d 'Send this CRM activity (of any type) to its rep\'s calendar (C9); repeatable' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l as -d 'What --send makes of the activity' -r -f -a "event\t''
task\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l unlink -d 'Remove this activity\'s calendar entry; the activity stays (C9); repeatable' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l conflict -d 'The conflict policy for this run, instead of [calendar] conflict (C6)' -r -f -a "newest-wins\t''
crm-wins\t''
groupware-wins\t''
ask\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l allow-mass-delete -d 'Carry out deletions even when they exceed max_delete_percent (C7)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l all-items -d 'Print every item in the summary, not only those that need attention'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crmsync -n "__fish_crmsync_using_subcommand sync-calendar" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "import" -d 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "list" -d 'Show the directory as a table (or --json)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "export" -d 'Write the directory as CSV in the import layout, or JSON'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "pull" -d 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "push" -d 'REST back end (B2): send the activities and persons that wait for the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "activity" -d 'Add, change, show or delete an appointment, meeting, follow-up or task'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and not __fish_seen_subcommand_from import list export pull push activity help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -l kind -d 'What the file holds [default: persons for .vcf files]' -r -f -a "companies\t''
persons\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from import" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l kind -d 'Which records' -r -f -a "companies\t''
persons\t''
users\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l search -d 'Only records whose name or e-mail contains this text (case-insensitive)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l limit -d 'At most this many rows (0: all)' -r
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l kind -d 'Which records' -r -f -a "companies\t''
persons\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l format -d 'Output format (CSV is the layout `crm import` reads)' -r -f -a "csv\t''
json\t''"
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s o -l output -d 'Write to this file instead of stdout' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from export" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from pull" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -s h -l help -d 'Print help'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -f -a "add" -d 'Add a calendar activity; prints its id'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -f -a "edit" -d 'Change the fields given; the others stay'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -f -a "show" -d 'Show an activity with its calendar data, and its occurrences in a window (C4)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -f -a "delete" -d 'Delete an activity (sync-calendar then deletes its calendar entry, C7)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from activity" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "import" -d 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show the directory as a table (or --json)'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "export" -d 'Write the directory as CSV in the import layout, or JSON'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "pull" -d 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "push" -d 'REST back end (B2): send the activities and persons that wait for the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "activity" -d 'Add, change, show or delete an appointment, meeting, follow-up or task'
complete -c crmsync -n "__fish_crmsync_using_subcommand crm; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crmsync -n "__fish_crmsync_using_subcommand completions" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -l dir -d 'Write crmsync.1 and every subcommand\'s page into this directory instead (created if missing)' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -l config -d 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -l state -d 'State file (SQLite), overrides `state` in the config' -r -F
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -l json -d 'Print one JSON document on stdout instead of tables (X6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -s y -l yes -l non-interactive -d 'Take every default and never wait for input (W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -l dry-run -d 'Print the plan and write nothing anywhere (X8)'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -s q -l quiet -d 'Print nothing on success; errors and warnings still go to stderr (X14)'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -s v -l verbose -d 'Print more about what happens (repeat for more)'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c crmsync -n "__fish_crmsync_using_subcommand man" -s V -l version -d 'Print version'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "init" -d 'Write a commented config through a wizard, testing each connection (X1)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "check" -d 'Test the config, the state file, the CRM and every account (X1)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "unblock" -d 'Clear the lockout guard of an account after fixing its password (X2)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "import-mail" -d 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "explain" -d 'Say which rule placed an activity where (X9)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "report" -d 'Imported activities with their assignment and flags (X10)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "resolve-unknown" -d 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "push-contacts" -d 'Push CRM persons (and companies) into each user\'s address book, one way (P1-P9)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "sync-calendar" -d 'Sync appointments and tasks both ways between each user\'s calendar and the CRM (C1-C12)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "crm" -d 'Read and load the CRM directory and activities (embedded back end, B1)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "completions" -d 'Print the shell completion script for SHELL (X21)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "man" -d 'Print the man page crmsync(1), or write every page into a directory (X21)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and not __fish_seen_subcommand_from init check unblock import-mail explain report resolve-unknown push-contacts sync-calendar crm completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "import" -d 'Load companies or persons from CSV (SPEC 8 layout) or vCard'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "list" -d 'Show the directory as a table (or --json)'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "export" -d 'Write the directory as CSV in the import layout, or JSON'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "pull" -d 'REST back end (B2): send what waits, then refresh the directory cache from the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "push" -d 'REST back end (B2): send the activities and persons that wait for the CRM'
complete -c crmsync -n "__fish_crmsync_using_subcommand help; and __fish_seen_subcommand_from crm" -f -a "activity" -d 'Add, change, show or delete an appointment, meeting, follow-up or task'
