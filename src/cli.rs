//! Command-line definitions: the single source for `--help`, the shell
//! completions in `completions/` and the man pages in `man/` (STYLE 15).
//!
//! Global flags apply to every subcommand; each subcommand exists only once
//! it does real work (no placeholders).

use std::path::PathBuf;

use clap::{Args, CommandFactory as _, Parser, Subcommand, ValueEnum};

/// `--version`: the package version and the git revision it was built from
/// (X20; `unknown` when built without git, see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("CRMSYNC_GIT_REVISION"),
    ")"
);

/// Connects IMAP mail, CalDAV calendars and CardDAV address books with a CRM.
#[derive(Debug, Parser)]
#[command(
    name = "crmsync",
    version = VERSION,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "Examples:
  crmsync init                        # write a config, testing each connection
  crmsync check                       # test the config and every account
  crmsync --yes --quiet import-mail   # unattended, e.g. from cron"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [default: $XDG_CONFIG_HOME/crmsync/config.toml]
    #[arg(long, global = true, env = "CRMSYNC_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// State file (SQLite), overrides `state` in the config
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,

    /// Print one JSON document on stdout instead of tables (X6)
    #[arg(long, global = true)]
    pub json: bool,

    /// Take every default and never wait for input (W6)
    #[arg(short = 'y', long, global = true, visible_alias = "non-interactive")]
    pub yes: bool,

    /// Print the plan and write nothing anywhere (X8)
    #[arg(long, global = true)]
    pub dry_run: bool,

    /// Print nothing on success; errors and warnings still go to stderr (X14)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what happens (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented config through a wizard, testing each connection (X1)
    #[command(after_help = "Examples:
  crmsync init
  crmsync init --sample --output ~/.config/crmsync/config.toml")]
    Init(InitArgs),
    /// Test the config, the state file, the CRM and every account (X1)
    #[command(after_help = "Examples:
  crmsync check
  crmsync check --offline
  crmsync check alice-mail")]
    Check(CheckArgs),
    /// Clear the lockout guard of an account after fixing its password (X2)
    #[command(after_help = "Examples:
  crmsync unblock alice-mail
  crmsync unblock --all")]
    Unblock(UnblockArgs),
    /// Import mail from IMAP folders or Maildir into CRM activities (M1-M19, W1-W6)
    #[command(after_help = "Examples:
  crmsync import-mail                 # on a terminal: the wizard
  crmsync --yes import-mail alice-mail
  crmsync --dry-run --json import-mail")]
    ImportMail(ImportMailArgs),
    /// Say which rule placed an activity where (X9)
    #[command(after_help = "Examples:
  crmsync explain 42
  crmsync explain '<4711@mail.example.com>'")]
    Explain(ExplainArgs),
    /// Imported activities with their assignment and flags (X10)
    #[command(after_help = "Examples:
  crmsync report --flagged --since 2026-01-01
  crmsync report --csv > activities.csv
  crmsync report --conflicts --json")]
    Report(ReportArgs),
    /// Resolve the queue of unknown addresses: list, assign, create, link, ignore (U1-U5)
    ///
    /// Without an action on a terminal: the list, then a menu per open address.
    /// Without a terminal (or with --yes): the list, like --list. Several actions may
    /// be given; they apply in the given order, in one transaction: when one of them
    /// is bad input, nothing changes (exit 2).
    #[command(verbatim_doc_comment)]
    #[command(after_help = "Examples:
  crmsync resolve-unknown --list
  crmsync resolve-unknown --assign x@new.example=P2
  crmsync resolve-unknown --apply resolve.csv")]
    ResolveUnknown(ResolveUnknownArgs),
    /// Push CRM persons (and companies) into each user's address book, one way (P1-P9)
    ///
    /// Only cards crmsync created are ever changed, moved or deleted; cards a user
    /// made are never touched. Unchanged contacts are not written. With
    /// times_per_day, a run before the next push is due does nothing (use --force).
    #[command(verbatim_doc_comment)]
    #[command(after_help = "Examples:
  crmsync push-contacts --dry-run
  crmsync push-contacts --force alice-book")]
    PushContacts(PushContactsArgs),
    /// Sync appointments and tasks both ways between each user's calendar and the CRM (C1-C12)
    ///
    /// Events and tasks of the user's calendar (CalDAV, or a vdir folder) and the
    /// CRM activities of type appointment, meeting, follow_up and task whose rep is
    /// the user. Only changes travel; conflicts follow [calendar] conflict and the
    /// losing version goes to the conflict log (`report --conflicts`); a run that
    /// would delete more than max_delete_percent stops before deleting anything.
    /// Exit 3 when an item was reported, failed or held back.
    #[command(verbatim_doc_comment)]
    #[command(after_help = "Examples:
  crmsync sync-calendar --dry-run
  crmsync sync-calendar alice-cal
  crmsync sync-calendar --send 42 --as task")]
    SyncCalendar(SyncCalendarArgs),
    /// Read and load the CRM directory and activities (embedded back end, B1)
    #[command(subcommand)]
    #[command(after_help = "Examples:
  crmsync crm import persons.csv --kind persons
  crmsync crm list --search gibbons")]
    Crm(CrmCommand),
    /// Print the shell completion script for SHELL (X21)
    ///
    /// The same text as completions/ in the sources. Load it from your shell's
    /// completion directory (see the examples) or source it in its startup file.
    #[command(
        verbatim_doc_comment,
        after_help = "Examples:
  crmsync completions bash > ~/.local/share/bash-completion/completions/crmsync
  crmsync completions zsh > ~/.zfunc/_crmsync    # with fpath+=(~/.zfunc) in ~/.zshrc
  crmsync completions fish > ~/.config/fish/completions/crmsync.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page crmsync(1), or write every page into a directory (X21)
    ///
    /// The same pages as man/ in the sources: crmsync.1 and one per
    /// subcommand (crmsync-import-mail.1, ...).
    #[command(
        verbatim_doc_comment,
        after_help = "Examples:
  crmsync man | man -l -
  crmsync man --dir ~/.local/share/man/man1    # then: man crmsync-import-mail"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write crmsync.1 and every subcommand's page into this directory instead (created if missing)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// The command as the generated files describe it (X21): the version
/// without the git revision, so that completions/ and man/ in the sources
/// stay the same from one commit to the next.
pub fn docs_command() -> clap::Command {
    let mut cmd = Cli::command().version(env!("CARGO_PKG_VERSION"));
    cmd.build();
    cmd
}

/// The completion script for `shell`, as completions/ holds it (X21).
pub fn completion(shell: clap_complete::Shell) -> Vec<u8> {
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut docs_command(), "crmsync", &mut buf);
    buf
}

/// The file names of completions/, one per shell.
pub const COMPLETION_FILES: [(clap_complete::Shell, &str); 5] = [
    (clap_complete::Shell::Bash, "crmsync.bash"),
    (clap_complete::Shell::Zsh, "_crmsync"),
    (clap_complete::Shell::Fish, "crmsync.fish"),
    (clap_complete::Shell::PowerShell, "_crmsync.ps1"),
    (clap_complete::Shell::Elvish, "crmsync.elv"),
];

/// Every man page as man/ holds it (X21): `crmsync.1` first, then one per
/// subcommand (`crmsync-crm-import.1`), with its roff text.
///
/// # Errors
/// Only a failing writer, which a `Vec` is not.
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    fn walk(
        cmd: &clap::Command,
        name: String,
        out: &mut Vec<(String, Vec<u8>)>,
    ) -> std::io::Result<()> {
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone().name(name.clone())).render(&mut buf)?;
        out.push((format!("{name}.1"), buf));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            walk(sub, format!("{name}-{}", sub.get_name()), out)?;
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(&docs_command(), "crmsync".into(), &mut out)?;
    Ok(out)
}

#[derive(Debug, Args, Default)]
pub struct SyncCalendarArgs {
    /// Sync only these calendar accounts (by name) [default: all]
    #[arg(value_name = "ACCOUNT")]
    pub accounts: Vec<String>,

    /// Send this CRM activity (of any type) to its rep's calendar (C9); repeatable
    #[arg(long, value_name = "ID", requires = "send_as")]
    pub send: Vec<i64>,

    /// What --send makes of the activity
    #[arg(long = "as", value_enum, value_name = "KIND")]
    pub send_as: Option<SendAs>,

    /// Remove this activity's calendar entry; the activity stays (C9); repeatable
    #[arg(long, value_name = "ID")]
    pub unlink: Vec<i64>,

    /// Carry out deletions even when they exceed max_delete_percent (C7)
    #[arg(long)]
    pub allow_mass_delete: bool,

    /// The conflict policy for this run, instead of [calendar] conflict (C6)
    #[arg(long, value_enum, value_name = "POLICY")]
    pub conflict: Option<ConflictArg>,

    /// Print every item in the summary, not only those that need attention
    #[arg(long)]
    pub all_items: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SendAs {
    Event,
    Task,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ConflictArg {
    NewestWins,
    CrmWins,
    GroupwareWins,
    Ask,
}

#[derive(Debug, Args)]
pub struct ImportMailArgs {
    /// Import only these mail accounts (by name) [default: all]
    #[arg(value_name = "ACCOUNT")]
    pub accounts: Vec<String>,

    /// Print every item in the summary, not only those that need attention
    #[arg(long)]
    pub all_items: bool,
}

#[derive(Debug, Args)]
pub struct PushContactsArgs {
    /// Push only these contacts accounts (by name) [default: all]
    #[arg(value_name = "ACCOUNT")]
    pub accounts: Vec<String>,

    /// Push now, even when the last push is more recent than times_per_day allows (P8)
    #[arg(long)]
    pub force: bool,

    /// List every contact in the summary: all changes in the table (not only failures), and the unchanged ones
    #[arg(long)]
    pub all_items: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Only activities imported from this account
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,
    /// Only activities on or after this date (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only activities on or before this date
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only activities flagged for editing
    #[arg(long)]
    pub flagged: bool,
    /// Only activities with this flag reason (e.g. unknown_sender)
    #[arg(long, value_name = "REASON")]
    pub flag: Option<String>,
    /// Only activities linked to an open unknown address
    #[arg(long)]
    pub unknown: bool,
    /// Write CSV instead of a table
    #[arg(long, conflicts_with = "json")]
    pub csv: bool,
    /// Show the resolutions of the unknown-address queue instead: what, by whom, when (U5)
    #[arg(long, conflicts_with_all = ["account", "since", "until", "flagged", "flag", "unknown"])]
    pub resolutions: bool,
    /// Show the calendar conflict log instead: each losing version, kept (C6); --account filters
    #[arg(long, conflicts_with_all = ["since", "until", "flagged", "flag", "unknown", "resolutions"])]
    pub conflicts: bool,
}

#[derive(Debug, Args)]
pub struct ResolveUnknownArgs {
    /// List the open unknown addresses and change nothing (U1)
    #[arg(long, conflicts_with_all = ["assign", "create", "link_domain", "ignore", "apply", "auto_domain"])]
    pub list: bool,
    /// With --list: also the resolved and ignored addresses
    #[arg(long, requires = "list")]
    pub all: bool,
    /// Assign an address to an existing person (by id, as `crm list` shows it); it becomes a further address of the person
    #[arg(long, value_name = "ADDR=PERSON_ID")]
    pub assign: Vec<String>,
    /// Create a person for an address; names default to its display name, the company to its domain's (M10)
    #[arg(long, value_name = "ADDR[=FIRST LAST]")]
    pub create: Vec<String>,
    /// Add a web domain to a company; every open address at that domain is resolved (M10)
    #[arg(long, value_name = "DOMAIN=COMPANY_ID")]
    pub link_domain: Vec<String>,
    /// Ignore an address, or a whole domain written @example.com, from now on (M14)
    #[arg(long, value_name = "ADDR|@DOMAIN")]
    pub ignore: Vec<String>,
    /// Apply a CSV file with the columns address,action,target; actions: assign, create, link-domain, ignore, skip
    #[arg(long, value_name = "FILE.csv")]
    pub apply: Vec<PathBuf>,
    /// Link every open address whose domain names exactly one company (M10)
    #[arg(long)]
    pub auto_domain: bool,
    /// Who resolves, for the audit trail (U5) [default: the OS user]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// An activity id, or a Message-ID (with or without <>)
    #[arg(value_name = "ITEM")]
    pub item: String,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the config [default: the --config path or the XDG path]
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Write the fully commented sample config without asking anything
    #[arg(long)]
    pub sample: bool,

    /// Replace an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Check only these accounts (by name); the config, state and CRM rows are always shown
    #[arg(value_name = "ACCOUNT")]
    pub accounts: Vec<String>,

    /// Do not connect to any server; check only the config, state file and CRM
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct UnblockArgs {
    /// Account name as in the config (`crm` for the REST CRM)
    #[arg(value_name = "ACCOUNT", required_unless_present = "all")]
    pub account: Option<String>,

    /// Unblock every blocked account
    #[arg(long, conflicts_with = "account")]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum CrmCommand {
    /// Load companies or persons from CSV (SPEC 8 layout) or vCard
    #[command(after_help = "Examples:
  crmsync crm import companies.csv --kind companies
  crmsync crm import contacts.vcf")]
    Import(CrmImportArgs),
    /// Show the directory as a table (or --json)
    #[command(after_help = "Examples:
  crmsync crm list --kind companies
  crmsync crm list --search gibbons --json")]
    List(CrmListArgs),
    /// Write the directory as CSV in the import layout, or JSON
    #[command(after_help = "Examples:
  crmsync crm export --kind persons --output persons.csv
  crmsync crm export --kind companies --format json")]
    Export(CrmExportArgs),
    /// REST back end (B2): send what waits, then refresh the directory cache from the CRM
    #[command(after_help = "Examples:
  CRM_TOKEN=... crmsync crm pull")]
    Pull,
    /// REST back end (B2): send the activities and persons that wait for the CRM
    #[command(after_help = "Examples:
  CRM_TOKEN=... crmsync crm push")]
    Push,
    /// Add, change, show or delete an appointment, meeting, follow-up or task
    #[command(subcommand)]
    #[command(after_help = "Examples:
  crmsync crm activity add --type appointment --rep alice --subject Visit --start '2026-03-05T10:00:00[Europe/Berlin]'
  crmsync crm activity show 42")]
    Activity(Box<ActivityCommand>),
}

#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// Add a calendar activity; prints its id
    #[command(after_help = "Examples:
  crmsync crm activity add --type task --rep alice --subject 'Send offer' --due 2026-03-06
  crmsync crm activity add --type meeting --rep bob --subject Review --start 2026-03-05T09:00:00Z --end 2026-03-05T10:00:00Z --participant jane@acme.example")]
    Add(ActivityAddArgs),
    /// Change the fields given; the others stay
    #[command(after_help = "Examples:
  crmsync crm activity edit 42 --start '2026-03-12T10:00:00[Europe/Berlin]'
  crmsync crm activity edit 42 --rrule 'FREQ=WEEKLY;COUNT=10'")]
    Edit(ActivityEditArgs),
    /// Show an activity with its calendar data, and its occurrences in a window (C4)
    #[command(after_help = "Examples:
  crmsync crm activity show 42
  crmsync crm activity show 42 --from 2026-01-01 --to 2027-01-01")]
    Show(ActivityShowArgs),
    /// Delete an activity (sync-calendar then deletes its calendar entry, C7)
    #[command(after_help = "Examples:
  crmsync crm activity delete 42")]
    Delete(ActivityIdArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ActivityType {
    Appointment,
    Meeting,
    FollowUp,
    Task,
}

/// Times are `2026-03-05` (all day), `2026-03-05T10:00:00` (floating),
/// `2026-03-05T09:00:00Z` (UTC) or `2026-03-05T10:00:00[Europe/Berlin]`.
#[derive(Debug, Args, Default)]
pub struct ActivityFields {
    /// Subject (the event's SUMMARY)
    #[arg(long)]
    pub subject: Option<String>,
    /// Text (the event's DESCRIPTION)
    #[arg(long)]
    pub text: Option<String>,
    /// Start: a date, a floating, UTC or zoned time (see above)
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// End
    #[arg(long, value_name = "TIME")]
    pub end: Option<String>,
    /// Due (tasks)
    #[arg(long, value_name = "TIME")]
    pub due: Option<String>,
    /// Recurrence rule, e.g. FREQ=WEEKLY;COUNT=10 ('' removes it)
    #[arg(long, value_name = "RRULE")]
    pub rrule: Option<String>,
    /// An excluded occurrence (a time as for --start); repeatable, replaces the list
    #[arg(long, value_name = "TIME")]
    pub exdate: Vec<String>,
    /// A participant's e-mail address; repeatable, replaces the list
    #[arg(long, value_name = "ADDRESS")]
    pub participant: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ActivityAddArgs {
    /// The activity type
    #[arg(long = "type", value_enum)]
    pub activity_type: ActivityType,
    /// Its rep: a user login (the calendar it syncs to)
    #[arg(long, value_name = "LOGIN")]
    pub rep: String,
    /// Attach it to this person (CRM id) [default: the rep's own person record]
    #[arg(long, value_name = "ID")]
    pub person: Option<String>,
    #[command(flatten)]
    pub fields: ActivityFields,
}

#[derive(Debug, Args)]
pub struct ActivityEditArgs {
    /// The activity id
    pub id: i64,
    #[command(flatten)]
    pub fields: ActivityFields,
}

#[derive(Debug, Args)]
pub struct ActivityShowArgs {
    /// The activity id
    pub id: i64,
    /// List occurrences from this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<String>,
    /// ... up to this date (exclusive)
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct ActivityIdArgs {
    /// The activity id
    pub id: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RecordKind {
    Companies,
    Persons,
    Users,
}

#[derive(Debug, Args)]
pub struct CrmImportArgs {
    /// CSV file with a header row, or a .vcf file (persons only); `-` reads stdin
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// What the file holds [default: persons for .vcf files]
    #[arg(long, value_enum)]
    pub kind: Option<ImportKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    Companies,
    Persons,
}

#[derive(Debug, Args)]
pub struct CrmListArgs {
    /// Which records
    #[arg(long, value_enum, default_value = "persons")]
    pub kind: RecordKind,

    /// Only records whose name or e-mail contains this text (case-insensitive)
    #[arg(long, value_name = "TEXT")]
    pub search: Option<String>,

    /// At most this many rows (0: all)
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct CrmExportArgs {
    /// Which records
    #[arg(long, value_enum)]
    pub kind: ImportKind,

    /// Output format (CSV is the layout `crm import` reads)
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,

    /// Write to this file instead of stdout
    #[arg(long, short, value_name = "PATH")]
    pub output: Option<PathBuf>,
}
