
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'crmsync' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'crmsync'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'crmsync' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented config through a wizard, testing each connection (X1)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Test the config, the state file, the CRM and every account (X1)')
            [CompletionResult]::new('unblock', 'unblock', [CompletionResultType]::ParameterValue, 'Clear the lockout guard of an account after fixing its password (X2)')
            [CompletionResult]::new('import-mail', 'import-mail', [CompletionResultType]::ParameterValue, 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Say which rule placed an activity where (X9)')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Imported activities with their assignment and flags (X10)')
            [CompletionResult]::new('resolve-unknown', 'resolve-unknown', [CompletionResultType]::ParameterValue, 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)')
            [CompletionResult]::new('push-contacts', 'push-contacts', [CompletionResultType]::ParameterValue, 'Push CRM persons (and companies) into each user''s address book, one way (P1-P9)')
            [CompletionResult]::new('sync-calendar', 'sync-calendar', [CompletionResultType]::ParameterValue, 'Sync appointments and tasks both ways between each user''s calendar and the CRM (C1-C12)')
            [CompletionResult]::new('crm', 'crm', [CompletionResultType]::ParameterValue, 'Read and load the CRM directory and activities (embedded back end, B1)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL (X21)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page crmsync(1), or write every page into a directory (X21)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;init' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Where to write the config [default: the --config path or the XDG path]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Where to write the config [default: the --config path or the XDG path]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--sample', '--sample', [CompletionResultType]::ParameterName, 'Write the fully commented sample config without asking anything')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace an existing file')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--offline', '--offline', [CompletionResultType]::ParameterName, 'Do not connect to any server; check only the config, state file and CRM')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;unblock' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'Unblock every blocked account')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;import-mail' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--all-items', '--all-items', [CompletionResultType]::ParameterName, 'Print every item in the summary, not only those that need attention')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;explain' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;report' {
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Only activities imported from this account')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Only activities on or after this date (YYYY-MM-DD or RFC 3339)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Only activities on or before this date')
            [CompletionResult]::new('--flag', '--flag', [CompletionResultType]::ParameterName, 'Only activities with this flag reason (e.g. unknown_sender)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--flagged', '--flagged', [CompletionResultType]::ParameterName, 'Only activities flagged for editing')
            [CompletionResult]::new('--unknown', '--unknown', [CompletionResultType]::ParameterName, 'Only activities linked to an open unknown address')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Write CSV instead of a table')
            [CompletionResult]::new('--resolutions', '--resolutions', [CompletionResultType]::ParameterName, 'Show the resolutions of the unknown-address queue instead: what, by whom, when (U5)')
            [CompletionResult]::new('--conflicts', '--conflicts', [CompletionResultType]::ParameterName, 'Show the calendar conflict log instead: each losing version, kept (C6); --account filters')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;resolve-unknown' {
            [CompletionResult]::new('--assign', '--assign', [CompletionResultType]::ParameterName, 'Assign an address to an existing person (by id, as `crm list` shows it); it becomes a further address of the person')
            [CompletionResult]::new('--create', '--create', [CompletionResultType]::ParameterName, 'Create a person for an address; names default to its display name, the company to its domain''s (M10)')
            [CompletionResult]::new('--link-domain', '--link-domain', [CompletionResultType]::ParameterName, 'Add a web domain to a company; every open address at that domain is resolved (M10)')
            [CompletionResult]::new('--ignore', '--ignore', [CompletionResultType]::ParameterName, 'Ignore an address, or a whole domain written @example.com, from now on (M14)')
            [CompletionResult]::new('--apply', '--apply', [CompletionResultType]::ParameterName, 'Apply a CSV file with the columns address,action,target; actions: assign, create, link-domain, ignore, skip')
            [CompletionResult]::new('--by', '--by', [CompletionResultType]::ParameterName, 'Who resolves, for the audit trail (U5) [default: the OS user]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--list', '--list', [CompletionResultType]::ParameterName, 'List the open unknown addresses and change nothing (U1)')
            [CompletionResult]::new('--all', '--all', [CompletionResultType]::ParameterName, 'With --list: also the resolved and ignored addresses')
            [CompletionResult]::new('--auto-domain', '--auto-domain', [CompletionResultType]::ParameterName, 'Link every open address whose domain names exactly one company (M10)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;push-contacts' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Push now, even when the last push is more recent than times_per_day allows (P8)')
            [CompletionResult]::new('--all-items', '--all-items', [CompletionResultType]::ParameterName, 'List every contact in the summary: all changes in the table (not only failures), and the unchanged ones')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;sync-calendar' {
            [CompletionResult]::new('--send', '--send', [CompletionResultType]::ParameterName, 'Send this CRM activity (of any type) to its rep''s calendar (C9); repeatable')
            [CompletionResult]::new('--as', '--as', [CompletionResultType]::ParameterName, 'What --send makes of the activity')
            [CompletionResult]::new('--unlink', '--unlink', [CompletionResultType]::ParameterName, 'Remove this activity''s calendar entry; the activity stays (C9); repeatable')
            [CompletionResult]::new('--conflict', '--conflict', [CompletionResultType]::ParameterName, 'The conflict policy for this run, instead of [calendar] conflict (C6)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--allow-mass-delete', '--allow-mass-delete', [CompletionResultType]::ParameterName, 'Carry out deletions even when they exceed max_delete_percent (C7)')
            [CompletionResult]::new('--all-items', '--all-items', [CompletionResultType]::ParameterName, 'Print every item in the summary, not only those that need attention')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load companies or persons from CSV (SPEC 8 layout) or vCard')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the directory as a table (or --json)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory as CSV in the import layout, or JSON')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'REST back end (B2): send what waits, then refresh the directory cache from the CRM')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'REST back end (B2): send the activities and persons that wait for the CRM')
            [CompletionResult]::new('activity', 'activity', [CompletionResultType]::ParameterValue, 'Add, change, show or delete an appointment, meeting, follow-up or task')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;crm;import' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'What the file holds [default: persons for .vcf files]')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;list' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Which records')
            [CompletionResult]::new('--search', '--search', [CompletionResultType]::ParameterName, 'Only records whose name or e-mail contains this text (case-insensitive)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'At most this many rows (0: all)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;export' {
            [CompletionResult]::new('--kind', '--kind', [CompletionResultType]::ParameterName, 'Which records')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format (CSV is the layout `crm import` reads)')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write to this file instead of stdout')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;pull' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;push' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;activity' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a calendar activity; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change the fields given; the others stay')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an activity with its calendar data, and its occurrences in a window (C4)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an activity (sync-calendar then deletes its calendar entry, C7)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;crm;activity;add' {
            [CompletionResult]::new('--type', '--type', [CompletionResultType]::ParameterName, 'The activity type')
            [CompletionResult]::new('--rep', '--rep', [CompletionResultType]::ParameterName, 'Its rep: a user login (the calendar it syncs to)')
            [CompletionResult]::new('--person', '--person', [CompletionResultType]::ParameterName, 'Attach it to this person (CRM id) [default: the rep''s own person record]')
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'Subject (the event''s SUMMARY)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'Text (the event''s DESCRIPTION)')
            [CompletionResult]::new('--start', '--start', [CompletionResultType]::ParameterName, 'Start: a date, a floating, UTC or zoned time (see above)')
            [CompletionResult]::new('--end', '--end', [CompletionResultType]::ParameterName, 'End')
            [CompletionResult]::new('--due', '--due', [CompletionResultType]::ParameterName, 'Due (tasks)')
            [CompletionResult]::new('--rrule', '--rrule', [CompletionResultType]::ParameterName, 'Recurrence rule, e.g. FREQ=WEEKLY;COUNT=10 ('''' removes it)')
            [CompletionResult]::new('--exdate', '--exdate', [CompletionResultType]::ParameterName, 'An excluded occurrence (a time as for --start); repeatable, replaces the list')
            [CompletionResult]::new('--participant', '--participant', [CompletionResultType]::ParameterName, 'A participant''s e-mail address; repeatable, replaces the list')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;activity;edit' {
            [CompletionResult]::new('--subject', '--subject', [CompletionResultType]::ParameterName, 'Subject (the event''s SUMMARY)')
            [CompletionResult]::new('--text', '--text', [CompletionResultType]::ParameterName, 'Text (the event''s DESCRIPTION)')
            [CompletionResult]::new('--start', '--start', [CompletionResultType]::ParameterName, 'Start: a date, a floating, UTC or zoned time (see above)')
            [CompletionResult]::new('--end', '--end', [CompletionResultType]::ParameterName, 'End')
            [CompletionResult]::new('--due', '--due', [CompletionResultType]::ParameterName, 'Due (tasks)')
            [CompletionResult]::new('--rrule', '--rrule', [CompletionResultType]::ParameterName, 'Recurrence rule, e.g. FREQ=WEEKLY;COUNT=10 ('''' removes it)')
            [CompletionResult]::new('--exdate', '--exdate', [CompletionResultType]::ParameterName, 'An excluded occurrence (a time as for --start); repeatable, replaces the list')
            [CompletionResult]::new('--participant', '--participant', [CompletionResultType]::ParameterName, 'A participant''s e-mail address; repeatable, replaces the list')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;activity;show' {
            [CompletionResult]::new('--from', '--from', [CompletionResultType]::ParameterName, 'List occurrences from this date (YYYY-MM-DD)')
            [CompletionResult]::new('--to', '--to', [CompletionResultType]::ParameterName, '... up to this date (exclusive)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;activity;delete' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;crm;activity;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a calendar activity; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change the fields given; the others stay')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an activity with its calendar data, and its occurrences in a window (C4)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an activity (sync-calendar then deletes its calendar entry, C7)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;crm;activity;help;add' {
            break
        }
        'crmsync;crm;activity;help;edit' {
            break
        }
        'crmsync;crm;activity;help;show' {
            break
        }
        'crmsync;crm;activity;help;delete' {
            break
        }
        'crmsync;crm;activity;help;help' {
            break
        }
        'crmsync;crm;help' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load companies or persons from CSV (SPEC 8 layout) or vCard')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the directory as a table (or --json)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory as CSV in the import layout, or JSON')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'REST back end (B2): send what waits, then refresh the directory cache from the CRM')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'REST back end (B2): send the activities and persons that wait for the CRM')
            [CompletionResult]::new('activity', 'activity', [CompletionResultType]::ParameterValue, 'Add, change, show or delete an appointment, meeting, follow-up or task')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;crm;help;import' {
            break
        }
        'crmsync;crm;help;list' {
            break
        }
        'crmsync;crm;help;export' {
            break
        }
        'crmsync;crm;help;pull' {
            break
        }
        'crmsync;crm;help;push' {
            break
        }
        'crmsync;crm;help;activity' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a calendar activity; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change the fields given; the others stay')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an activity with its calendar data, and its occurrences in a window (C4)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an activity (sync-calendar then deletes its calendar entry, C7)')
            break
        }
        'crmsync;crm;help;activity;add' {
            break
        }
        'crmsync;crm;help;activity;edit' {
            break
        }
        'crmsync;crm;help;activity;show' {
            break
        }
        'crmsync;crm;help;activity;delete' {
            break
        }
        'crmsync;crm;help;help' {
            break
        }
        'crmsync;completions' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write crmsync.1 and every subcommand''s page into this directory instead (created if missing)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'State file (SQLite), overrides `state` in the config')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print one JSON document on stdout instead of tables (X6)')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--non-interactive', '--non-interactive', [CompletionResultType]::ParameterName, 'Take every default and never wait for input (W6)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Print the plan and write nothing anywhere (X8)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on success; errors and warnings still go to stderr (X14)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print more about what happens (repeat for more)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            break
        }
        'crmsync;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Write a commented config through a wizard, testing each connection (X1)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Test the config, the state file, the CRM and every account (X1)')
            [CompletionResult]::new('unblock', 'unblock', [CompletionResultType]::ParameterValue, 'Clear the lockout guard of an account after fixing its password (X2)')
            [CompletionResult]::new('import-mail', 'import-mail', [CompletionResultType]::ParameterValue, 'Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)')
            [CompletionResult]::new('explain', 'explain', [CompletionResultType]::ParameterValue, 'Say which rule placed an activity where (X9)')
            [CompletionResult]::new('report', 'report', [CompletionResultType]::ParameterValue, 'Imported activities with their assignment and flags (X10)')
            [CompletionResult]::new('resolve-unknown', 'resolve-unknown', [CompletionResultType]::ParameterValue, 'Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)')
            [CompletionResult]::new('push-contacts', 'push-contacts', [CompletionResultType]::ParameterValue, 'Push CRM persons (and companies) into each user''s address book, one way (P1-P9)')
            [CompletionResult]::new('sync-calendar', 'sync-calendar', [CompletionResultType]::ParameterValue, 'Sync appointments and tasks both ways between each user''s calendar and the CRM (C1-C12)')
            [CompletionResult]::new('crm', 'crm', [CompletionResultType]::ParameterValue, 'Read and load the CRM directory and activities (embedded back end, B1)')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print the shell completion script for SHELL (X21)')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Print the man page crmsync(1), or write every page into a directory (X21)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'crmsync;help;init' {
            break
        }
        'crmsync;help;check' {
            break
        }
        'crmsync;help;unblock' {
            break
        }
        'crmsync;help;import-mail' {
            break
        }
        'crmsync;help;explain' {
            break
        }
        'crmsync;help;report' {
            break
        }
        'crmsync;help;resolve-unknown' {
            break
        }
        'crmsync;help;push-contacts' {
            break
        }
        'crmsync;help;sync-calendar' {
            break
        }
        'crmsync;help;crm' {
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Load companies or persons from CSV (SPEC 8 layout) or vCard')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'Show the directory as a table (or --json)')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write the directory as CSV in the import layout, or JSON')
            [CompletionResult]::new('pull', 'pull', [CompletionResultType]::ParameterValue, 'REST back end (B2): send what waits, then refresh the directory cache from the CRM')
            [CompletionResult]::new('push', 'push', [CompletionResultType]::ParameterValue, 'REST back end (B2): send the activities and persons that wait for the CRM')
            [CompletionResult]::new('activity', 'activity', [CompletionResultType]::ParameterValue, 'Add, change, show or delete an appointment, meeting, follow-up or task')
            break
        }
        'crmsync;help;crm;import' {
            break
        }
        'crmsync;help;crm;list' {
            break
        }
        'crmsync;help;crm;export' {
            break
        }
        'crmsync;help;crm;pull' {
            break
        }
        'crmsync;help;crm;push' {
            break
        }
        'crmsync;help;crm;activity' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Add a calendar activity; prints its id')
            [CompletionResult]::new('edit', 'edit', [CompletionResultType]::ParameterValue, 'Change the fields given; the others stay')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show an activity with its calendar data, and its occurrences in a window (C4)')
            [CompletionResult]::new('delete', 'delete', [CompletionResultType]::ParameterValue, 'Delete an activity (sync-calendar then deletes its calendar entry, C7)')
            break
        }
        'crmsync;help;crm;activity;add' {
            break
        }
        'crmsync;help;crm;activity;edit' {
            break
        }
        'crmsync;help;crm;activity;show' {
            break
        }
        'crmsync;help;crm;activity;delete' {
            break
        }
        'crmsync;help;completions' {
            break
        }
        'crmsync;help;man' {
            break
        }
        'crmsync;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
