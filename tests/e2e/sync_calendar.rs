//! `crmsync sync-calendar` (SPEC 4, C1-C12): every rule group as one
//! scenario, run against each server of the matrix: the real Radicale and
//! Xandikos (asserting on what the server holds, fetched back over HTTP) and
//! a vdir folder (docs/SERVERS.md). The CRM side is read with
//! `report --json` and `crm activity show --json`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crmsync::parse::ical;
use serde_json::Value;

use crate::cli::Env;
use crate::harness::{self, Radicale, Xandikos};
use crate::push_contacts::{XML, fault_proxy, prop, responses, tag};

/// Where the calendar lives.
pub(crate) enum Cal {
    Radicale {
        r: &'static Radicale,
        login: String,
        pw: String,
    },
    /// A Xandikos of this test's own (it has no accounts), with the
    /// calendar `calendar/` in its principal's home.
    Xandikos(Xandikos),
    Vdir(PathBuf),
}

/// One test's world: a calendar with one collection `calendar/`, a
/// config whose user alice owns it, the CRM directory loaded.
pub(crate) struct W {
    pub(crate) env: Env,
    pub(crate) cal: Cal,
    extra: String,
    /// The account's URL instead of Radicale's (a fault proxy).
    pub(crate) url: Option<String>,
    /// B2: the CRM is BottleCRM (an org of its own), with the CSV ids of
    /// the seeded directory mapped to BottleCRM's.
    rest: Option<(crate::rest_crm::Crm, BTreeMap<String, String>)>,
}

pub(crate) const CALENDAR_ACCOUNT: &str = "alice-cal";

impl W {
    /// None when Radicale is not available and not required (skipped).
    pub(crate) fn new(radicale: bool, prefix: &str) -> Option<W> {
        let env = Env::new("");
        let cal = if radicale {
            let r = harness::radicale()?;
            let (login, pw) = r.add_user(prefix);
            r.create_calendar(&login, "calendar");
            Cal::Radicale { r, login, pw }
        } else {
            let dir = env.path("vdir");
            std::fs::create_dir_all(dir.join("calendar")).unwrap();
            Cal::Vdir(dir)
        };
        Some(W::with(env, cal))
    }

    /// A private Xandikos (issue 15); None when it is not available and
    /// not required (skipped).
    pub(crate) fn new_xandikos() -> Option<W> {
        let x = harness::xandikos()?;
        x.create_calendar("calendar");
        Some(W::with(Env::new(""), Cal::Xandikos(x)))
    }

    /// The world on `cal` with the embedded CRM's directory loaded.
    fn with(env: Env, cal: Cal) -> W {
        let w = W {
            env,
            cal,
            extra: String::new(),
            url: None,
            rest: None,
        };
        w.write_config();
        w.env.load_directory();
        w
    }

    /// B2: Radicale, and BottleCRM as the CRM (`[crm] backend = "rest"`)
    /// holding the same directory; every command then refreshes the cache
    /// before and pushes to BottleCRM after, and when the scenario ends
    /// BottleCRM must hold exactly what crmsync shows ([`W::drop`]).
    pub(crate) fn new_rest(prefix: &str) -> Option<W> {
        let r = harness::radicale()?;
        let crm = crate::rest_crm::Crm::new(prefix)?;
        let ids = crm.seed_cli_directory();
        let (login, pw) = r.add_user(prefix);
        r.create_calendar(&login, "calendar");
        let w = W {
            env: Env::new(""),
            cal: Cal::Radicale { r, login, pw },
            extra: String::new(),
            url: None,
            rest: Some((crm, ids)),
        };
        w.write_config();
        Some(w)
    }

    /// The CRM's id of a record of the seeded directory (`P3` -> BottleCRM's).
    pub(crate) fn id(&self, csv_id: &str) -> String {
        match &self.rest {
            Some((_, ids)) => ids[csv_id].clone(),
            None => csv_id.to_string(),
        }
    }

    /// Extra config text (e.g. `[crm]` link, `[calendar]` keys).
    pub(crate) fn configure(&mut self, extra: &str) {
        self.extra = extra.to_string();
        self.write_config();
    }

    fn write_config(&self) {
        let extra = match &self.rest {
            Some((crm, _)) => {
                let rest = crm
                    .config(&crm.url)
                    .replace(
                        "token_env = \"CRM_TOKEN\"",
                        &format!("token = \"{}\"", crm.token),
                    )
                    .replace("[crm]\nbackend = \"rest\"\n", "");
                if self.extra.contains("[crm]\n") {
                    format!(
                        "{}\n{rest}",
                        self.extra.replace("[crm]\n", "[crm]\nbackend = \"rest\"\n")
                    )
                } else {
                    format!("{}\n[crm]\nbackend = \"rest\"\n{rest}", self.extra)
                }
            }
            None => self.extra.clone(),
        };
        let account = match &self.cal {
            Cal::Radicale { r, login, .. } => format!(
                "source = \"caldav\"\nurl = \"{}\"\nlogin = \"{login}\"\npassword_env = \"DAV_PW\"\n",
                self.url.as_deref().unwrap_or(&r.url)
            ),
            Cal::Xandikos(x) => format!(
                "source = \"caldav\"\nurl = \"{}\"\nlogin = \"{}\"\npassword_env = \"DAV_PW\"\n",
                self.url.as_deref().unwrap_or(&x.url),
                Xandikos::LOGIN
            ),
            Cal::Vdir(p) => format!("source = \"vdir\"\npath = \"{}\"\n", p.display()),
        };
        std::fs::write(
            &self.env.config,
            format!(
                "state = \"state.sqlite\"\nown_domains = [\"us.example\"]\n\n{}\n\n\
                 [[users]]\nlogin = \"alice\"\nemails = [\"alice@us.example\"]\nname = \"Alice Smith\"\n\n\
                 [[users]]\nlogin = \"bob\"\nemails = [\"bob@us.example\"]\n\n\
                 [[calendar.accounts]]\nname = \"{CALENDAR_ACCOUNT}\"\nuser = \"alice\"\n{account}",
                extra
            ),
        )
        .unwrap();
    }

    fn pw(&self) -> &str {
        match &self.cal {
            Cal::Radicale { pw, .. } => pw,
            Cal::Xandikos(_) => Xandikos::PASSWORD,
            Cal::Vdir(_) => "",
        }
    }

    /// sync-calendar --json; (exit code, summary).
    pub(crate) fn sync(&self, args: &[&str]) -> (i32, Value) {
        self.sync_pw(self.pw(), args)
    }

    fn sync_pw(&self, pw: &str, args: &[&str]) -> (i32, Value) {
        let out = self
            .env
            .cmd()
            .args(["--json", "sync-calendar"])
            .args(args)
            .env("DAV_PW", pw)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }

    /// A sync that must succeed (exit 0).
    pub(crate) fn sync_ok(&self, args: &[&str]) -> Value {
        let (code, v) = self.sync(args);
        assert_eq!(code, 0, "{v:#}");
        v
    }

    pub(crate) fn crm(&self, args: &[&str]) -> Value {
        self.env.json(args)
    }

    /// Adds a CRM activity; returns its id.
    pub(crate) fn add(&self, args: &[&str]) -> i64 {
        let mut a = vec!["crm", "activity", "add", "--rep", "alice"];
        a.extend_from_slice(args);
        self.crm(&a)["id"].as_i64().unwrap()
    }

    pub(crate) fn show(&self, id: i64) -> Value {
        self.crm(&["crm", "activity", "show", &id.to_string()])
    }

    /// The CRM's calendar activities (report --json), by subject.
    pub(crate) fn activities(&self) -> BTreeMap<String, Value> {
        self.crm(&["report"])["activities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["type"] != "email_in" && a["type"] != "email_out")
            .map(|a| (a["subject"].as_str().unwrap().to_string(), a.clone()))
            .collect()
    }

    pub(crate) fn url(&self, name: &str) -> String {
        match &self.cal {
            Cal::Radicale { r, login, .. } => format!("{}{login}/calendar/{name}", r.url),
            Cal::Xandikos(x) => format!("{}calendar/{name}", x.calendars),
            Cal::Vdir(p) => p.join("calendar").join(name).display().to_string(),
        }
    }

    /// The DAV server's port (for a fault proxy in front of it).
    pub(crate) fn port(&self) -> u16 {
        match &self.cal {
            Cal::Radicale { r, .. } => r.port,
            Cal::Xandikos(x) => x.port,
            Cal::Vdir(_) => unreachable!("no port for a vdir"),
        }
    }

    /// The `Authorization` header value of the calendar's user.
    pub(crate) fn auth(&self) -> String {
        match &self.cal {
            Cal::Radicale { login, pw, .. } => harness::basic_auth(login, pw),
            Cal::Xandikos(_) => harness::basic_auth(Xandikos::LOGIN, Xandikos::PASSWORD),
            Cal::Vdir(_) => unreachable!("HTTP only for a DAV server"),
        }
    }

    fn req(
        &self,
        method: &str,
        url: &str,
        extra: &[(&str, &str)],
        body: &[u8],
    ) -> harness::HttpResponse {
        let auth = self.auth();
        let mut h = vec![("Authorization", auth.as_str())];
        h.extend_from_slice(extra);
        harness::http(method, url, &h, body).unwrap()
    }

    /// Puts an item as a calendar client would.
    pub(crate) fn put(&self, name: &str, text: &str) {
        match &self.cal {
            Cal::Radicale { .. } | Cal::Xandikos(_) => {
                let resp = self.req(
                    "PUT",
                    &self.url(name),
                    &[("Content-Type", "text/calendar")],
                    text.as_bytes(),
                );
                assert!(
                    resp.status < 300,
                    "PUT {name}: {} {}",
                    resp.status,
                    resp.text()
                );
            }
            Cal::Vdir(_) => std::fs::write(self.url(name), text).unwrap(),
        }
    }

    fn delete(&self, name: &str) {
        match &self.cal {
            Cal::Radicale { .. } | Cal::Xandikos(_) => {
                let resp = self.req("DELETE", &self.url(name), &[], b"");
                assert!(resp.status < 300, "DELETE {name}: {}", resp.status);
            }
            Cal::Vdir(_) => std::fs::remove_file(self.url(name)).unwrap(),
        }
    }

    /// Every item of the calendar: file name -> (ETag or mtime, text).
    pub(crate) fn items(&self) -> BTreeMap<String, (String, String)> {
        match &self.cal {
            Cal::Radicale { .. } | Cal::Xandikos(_) => {
                let url = self.url("");
                let body = br#"<?xml version="1.0"?><propfind xmlns="DAV:"><prop><getetag/></prop></propfind>"#;
                let resp = self.req("PROPFIND", &url, &[("Depth", "1"), XML], body);
                assert_eq!(resp.status, 207, "{}", resp.text());
                let mut out = BTreeMap::new();
                for x in responses(&resp.text()) {
                    let href = tag(&x, "href").unwrap();
                    if href.ends_with('/') {
                        continue;
                    }
                    let name = href.rsplit('/').next().unwrap().to_string();
                    let get = self.req("GET", &self.url(&name), &[], b"");
                    assert_eq!(get.status, 200);
                    out.insert(name, (tag(&x, "getetag").unwrap(), get.text()));
                }
                out
            }
            Cal::Vdir(p) => std::fs::read_dir(p.join("calendar"))
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.file_name().to_string_lossy().ends_with(".ics"))
                .map(|e| {
                    let meta = e.metadata().unwrap();
                    let stamp = format!("{:?}-{}", meta.modified().unwrap(), meta.len());
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        (stamp, std::fs::read_to_string(e.path()).unwrap()),
                    )
                })
                .collect(),
        }
    }

    /// The text of the item holding `uid`.
    pub(crate) fn by_uid(&self, uid: &str) -> String {
        self.items()
            .into_values()
            .map(|(_, t)| t)
            .find(|t| prop(t, "UID").as_deref() == Some(uid))
            .unwrap_or_else(|| panic!("no item with UID {uid}"))
    }
}

/// B2: when a scenario against BottleCRM ends, BottleCRM holds exactly the
/// activities crmsync shows with a record to hang on, each once.
impl Drop for W {
    fn drop(&mut self) {
        let Some((crm, _)) = &self.rest else { return };
        if std::thread::panicking() {
            return;
        }
        let mut ours: Vec<String> = self.crm(&["report"])["activities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| !a["attached_to"].is_null())
            .map(|a| a["subject"].as_str().unwrap().to_string())
            .collect();
        ours.sort();
        assert_eq!(crm.all_subjects(), ours, "BottleCRM vs crmsync's report");
    }
}

/// A VCALENDAR with one component `comp` (VEVENT/VTODO) of these lines.
pub(crate) fn ics(comp: &str, uid: &str, lines: &[&str]) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync tests//EN\r\nBEGIN:{comp}\r\nUID:{uid}\r\nDTSTAMP:20261101T100000Z\r\n{}\r\nEND:{comp}\r\nEND:VCALENDAR\r\n",
        lines.join("\r\n")
    )
}

pub(crate) fn event(uid: &str, summary: &str) -> String {
    ics(
        "VEVENT",
        uid,
        &[
            "DTSTART;TZID=Europe/Berlin:20261203T100000",
            "DTEND;TZID=Europe/Berlin:20261203T110000",
            &format!("SUMMARY:{summary}"),
        ],
    )
}

pub(crate) fn count(v: &Value, what: &str) -> i64 {
    v["counts"][what].as_i64().unwrap()
}

pub(crate) fn actions(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            format!(
                "{} {}",
                i["action"].as_str().unwrap(),
                i["rule"].as_str().unwrap()
            )
        })
        .collect()
}

/// One test of a scenario on one server, for [`crate::server_matrix!`]:
/// `radicale`, `xandikos`, `vdir`, and `rest` (Radicale with BottleCRM as
/// the CRM, B2).
macro_rules! sync_case {
    (radicale $name:ident) => {
        #[test]
        fn radicale() {
            if let Some(w) = super::W::new(true, stringify!($name)) {
                super::$name(w);
            }
        }
    };
    (xandikos $name:ident) => {
        #[test]
        fn xandikos() {
            if let Some(w) = super::W::new_xandikos() {
                super::$name(w);
            }
        }
    };
    (vdir $name:ident) => {
        #[test]
        fn vdir() {
            super::$name(super::W::new(false, stringify!($name)).unwrap());
        }
    };
    (rest $name:ident) => {
        /// B2: Radicale and BottleCRM.
        #[test]
        fn rest() {
            if let Some(w) = super::W::new_rest(stringify!($name)) {
                super::$name(w);
            }
        }
    };
}

crate::server_matrix!(
    sync_case
    [radicale xandikos vdir rest]
    c2_events_and_tasks_become_activities_attendees_matched_unknown_queued,
    c3_crm_appointments_and_tasks_reach_the_calendar_and_edits_follow,
    c4_recurring_series_with_exdates_and_moved_instances_round_trips,
    c5_c11_only_changes_travel_and_a_second_sync_writes_nothing,
    c6_conflicts_follow_the_policy_and_losers_are_logged,
    c7_deletions_travel_both_ways_and_mass_deletion_stops,
    c8_crm_link_is_written_once,
    c9_send_a_mail_activity_as_task_and_unlink_it,
    c10_time_forms_and_unmodelled_properties_survive_crm_edits,
    x8_dry_run_plans_and_writes_nothing,
);

fn c2_events_and_tasks_become_activities_attendees_matched_unknown_queued(w: W) {
    w.put(
        "m1.ics",
        &ics(
            "VEVENT",
            "m1@client",
            &[
                "DTSTART:20261203T090000Z",
                "DTEND:20261203T100000Z",
                "SUMMARY:Kick-off",
                "ORGANIZER;CN=Jane Doe:mailto:Jane@Acme.example",
                "ATTENDEE:mailto:alice@us.example",
                "ATTENDEE;CN=Guy Newman:mailto:guy@nowhere.example",
            ],
        ),
    );
    w.put(
        "t1.ics",
        &ics(
            "VTODO",
            "t1@client",
            &["DUE;VALUE=DATE:20261210", "SUMMARY:Prepare offer"],
        ),
    );
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_crm"), 2, "{v:#}");
    // SPEC §8's keys beside the detail (issue 15).
    assert_eq!(count(&v, "created"), 2, "{v:#}");
    let acts = w.activities();
    let m = &acts["Kick-off"];
    assert_eq!(m["type"], "meeting");
    // C2: attached to the user's own person record, rep = the user.
    assert_eq!(m["attached_to"]["id"], w.id("P3").as_str());
    assert_eq!(m["rep"], "alice");
    let ps: Vec<&str> = m["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        ps.contains(&"jane@acme.example") && ps.contains(&"guy@nowhere.example"),
        "{ps:?}"
    );
    assert_eq!(m["flags"], serde_json::json!(["unidentified_attendee"]));
    assert_eq!(m["flag_details"][0]["address"], "guy@nowhere.example");
    assert_eq!(acts["Prepare offer"]["type"], "task");
    assert!(
        acts["Prepare offer"]["flags"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // As M8: the unknown attendee is queued with its display name.
    let q = w.crm(&["resolve-unknown", "--list"]);
    let text = q.to_string();
    assert!(
        text.contains("guy@nowhere.example") && text.contains("Guy Newman"),
        "{q:#}"
    );
    assert!(!text.contains("jane@acme.example"));
    // C2 edits: the task's DUE moves in the calendar, the CRM follows.
    w.put(
        "t1.ics",
        &ics(
            "VTODO",
            "t1@client",
            &["DUE;VALUE=DATE:20261217", "SUMMARY:Prepare offer"],
        ),
    );
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_crm"), 1, "{v:#}");
    assert_eq!(count(&v, "updated"), 1, "{v:#}");
    let id = acts["Prepare offer"]["id"].as_i64().unwrap();
    assert_eq!(w.show(id)["fields"]["due"], "2026-12-17");
}

fn c3_crm_appointments_and_task_reach_the_calendar_base(w: &W) -> (i64, i64) {
    let demo = w.add(&[
        "--type",
        "meeting",
        "--subject",
        "Product demo",
        "--start",
        "2026-12-02T14:00:00[Europe/Berlin]",
        "--end",
        "2026-12-02T15:00:00[Europe/Berlin]",
        "--participant",
        "jane@acme.example",
    ]);
    let task = w.add(&[
        "--type",
        "task",
        "--subject",
        "Call back",
        "--due",
        "2026-12-04",
    ]);
    (demo, task)
}

fn c3_crm_appointments_and_tasks_reach_the_calendar_and_edits_follow(w: W) {
    let (demo, task) = c3_crm_appointments_and_task_reach_the_calendar_base(&w);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_calendar"), 2, "{v:#}");
    assert_eq!(count(&v, "created"), 2, "{v:#}");
    let items = w.items();
    assert_eq!(items.len(), 2);
    let ev = items
        .values()
        .map(|(_, t)| t)
        .find(|t| t.contains("BEGIN:VEVENT"))
        .unwrap();
    assert_eq!(prop(ev, "SUMMARY").as_deref(), Some("Product demo"));
    assert!(
        ev.contains("DTSTART;TZID=Europe/Berlin:20261202T140000"),
        "{ev}"
    );
    assert!(ev.contains("BEGIN:VTIMEZONE"), "{ev}");
    // C3: ORGANIZER the user, ATTENDEEs the participants. (Xandikos stores
    // `CN="Alice Smith"`: a quoted parameter value is the same value,
    // RFC 5545 §3.2.)
    assert!(
        ev.replace('"', "")
            .contains("ORGANIZER;CN=Alice Smith:mailto:alice@us.example"),
        "{ev}"
    );
    assert!(ev.contains("mailto:jane@acme.example"), "{ev}");
    let td = items
        .values()
        .map(|(_, t)| t)
        .find(|t| t.contains("BEGIN:VTODO"))
        .unwrap();
    assert!(td.contains("DUE;VALUE=DATE:20261204"), "{td}");
    // Edits in the CRM follow (If-Match on the server).
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &demo.to_string(),
        "--subject",
        "Product demo v2",
    ]);
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &task.to_string(),
        "--due",
        "2026-12-05",
    ]);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_calendar"), 2, "{v:#}");
    let uid = w.show(demo)["uid"].as_str().unwrap().to_string();
    assert_eq!(
        prop(&w.by_uid(&uid), "SUMMARY").as_deref(),
        Some("Product demo v2")
    );
    let tuid = w.show(task)["uid"].as_str().unwrap().to_string();
    assert!(w.by_uid(&tuid).contains("DUE;VALUE=DATE:20261205"));
}

/// Weekly in Berlin across the DST change, two EXDATEs, two instances
/// moved (one to another day), an alarm and an X- property.
const SERIES: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//crmsync tests//EN\r\n\
BEGIN:VEVENT\r\nUID:series@client\r\nDTSTAMP:20261101T100000Z\r\n\
DTSTART;TZID=Europe/Berlin:20270301T100000\r\nDTEND;TZID=Europe/Berlin:20270301T110000\r\n\
RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Berlin:20270315T100000,20270405T100000\r\n\
SUMMARY:Weekly sync\r\nX-CLIENT-COLOR:teal\r\n\
BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT10M\r\nEND:VALARM\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:series@client\r\nDTSTAMP:20261101T100000Z\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20270322T100000\r\n\
DTSTART;TZID=Europe/Berlin:20270322T150000\r\nDTEND;TZID=Europe/Berlin:20270322T160000\r\n\
SUMMARY:Weekly sync (afternoon)\r\nSEQUENCE:1\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:series@client\r\nDTSTAMP:20261101T100000Z\r\n\
RECURRENCE-ID;TZID=Europe/Berlin:20270329T100000\r\n\
DTSTART;TZID=Europe/Berlin:20270331T100000\r\nDTEND;TZID=Europe/Berlin:20270331T110000\r\n\
SUMMARY:Weekly sync\r\nSEQUENCE:2\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

/// The occurrences of the item with `uid` in `text` in 2027, as text.
fn occurrences(text: &str) -> Vec<String> {
    let items = ical::parse(text).unwrap();
    let from = chrono::DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let to = chrono::DateTime::parse_from_rfc3339("2028-01-01T00:00:00Z")
        .unwrap()
        .to_utc();
    ical::occurrences(&items[0], from, to)
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o.start,
                o.end.as_ref().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect()
}

fn crm_occurrences(w: &W, id: i64) -> Vec<String> {
    w.crm(&[
        "crm",
        "activity",
        "show",
        &id.to_string(),
        "--from",
        "2027-01-01",
        "--to",
        "2028-01-01",
    ])["occurrences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            format!(
                "{} {}",
                o["start"].as_str().unwrap(),
                o["end"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

fn c4_recurring_series_with_exdates_and_moved_instances_round_trips(w: W) {
    w.put("series.ics", SERIES);
    let want = occurrences(SERIES);
    assert_eq!(want.len(), 8, "{want:?}");
    assert!(want.contains(
        &"2027-03-31T10:00:00[Europe/Berlin] 2027-03-31T11:00:00[Europe/Berlin]".to_string()
    ));
    w.sync_ok(&[]);
    // C4: the CRM holds the series as one activity with rule and exceptions.
    let acts = w.activities();
    assert_eq!(acts.len(), 1, "{acts:?}");
    let id = acts["Weekly sync"]["id"].as_i64().unwrap();
    let shown = w.show(id);
    assert_eq!(shown["fields"]["rrule"], "FREQ=WEEKLY;COUNT=10");
    assert_eq!(shown["fields"]["overrides"].as_array().unwrap().len(), 2);
    assert_eq!(crm_occurrences(&w, id), want);
    // Edited in the CRM: every occurrence stays exactly, and so do the
    // overrides, the alarm and the X- property.
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--subject",
        "Weekly sync (CRM)",
    ]);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_calendar"), 1, "{v:#}");
    let text = w.by_uid("series@client");
    assert_eq!(occurrences(&text), want, "{text}");
    for keep in [
        "SUMMARY:Weekly sync (CRM)",
        "SUMMARY:Weekly sync (afternoon)",
        "RECURRENCE-ID;TZID=Europe/Berlin:20270329T100000",
        "EXDATE;TZID=Europe/Berlin:20270315T100000,20270405T100000",
        "X-CLIENT-COLOR:teal",
        "TRIGGER:-PT10M",
    ] {
        assert!(text.contains(keep), "{keep} missing:\n{text}");
    }
    // Edited in the calendar: a third instance moved, one more EXDATE.
    let moved = text
        .replace(
            "EXDATE;TZID=Europe/Berlin:20270315T100000,20270405T100000",
            "EXDATE;TZID=Europe/Berlin:20270315T100000,20270405T100000,20270412T100000",
        )
        .replace(
            "DTSTART;TZID=Europe/Berlin:20270322T150000",
            "DTSTART;TZID=Europe/Berlin:20270322T160000",
        )
        .replace(
            "DTEND;TZID=Europe/Berlin:20270322T160000",
            "DTEND;TZID=Europe/Berlin:20270322T170000",
        );
    assert_ne!(moved, text);
    w.put("series.ics", &moved);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_crm"), 1, "{v:#}");
    let want2 = occurrences(&moved);
    assert_eq!(want2.len(), 7);
    assert!(want2.contains(
        &"2027-03-22T16:00:00[Europe/Berlin] 2027-03-22T17:00:00[Europe/Berlin]".to_string()
    ));
    assert_eq!(crm_occurrences(&w, id), want2);
    // And nothing travels back (C11).
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
}

fn c5_c11_only_changes_travel_and_a_second_sync_writes_nothing(w: W) {
    for i in 0..3 {
        w.put(
            &format!("e{i}.ics"),
            &event(&format!("e{i}@client"), &format!("Event {i}")),
        );
    }
    w.add(&[
        "--type",
        "appointment",
        "--subject",
        "From CRM",
        "--start",
        "2026-12-09T09:00:00Z",
    ]);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_crm"), 3);
    assert_eq!(count(&v, "created_in_calendar"), 1);
    let before = w.items();
    // C11: a second sync fetches nothing and writes nothing.
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    assert_eq!(v["accounts"][0]["fetched"], 0, "{v:#}");
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    assert_eq!(w.items(), before, "a no-op sync changed the calendar");
    // C5: one changed item is fetched and travels; the others are not fetched.
    w.put("e1.ics", &event("e1@client", "Event 1 renamed"));
    let v = w.sync_ok(&[]);
    assert_eq!(v["accounts"][0]["fetched"], 1, "{v:#}");
    assert_eq!(count(&v, "updated_in_crm"), 1);
    assert!(w.activities().contains_key("Event 1 renamed"));
    // C11: only DTSTAMP moved: no change anywhere.
    w.put(
        "e2.ics",
        &event("e2@client", "Event 2")
            .replace("DTSTAMP:20261101T100000Z", "DTSTAMP:20261120T080000Z"),
    );
    let v = w.sync_ok(&[]);
    assert_eq!(v["accounts"][0]["fetched"], 1, "{v:#}");
    assert!(actions(&v).is_empty(), "{v:#}");
}

fn c6_conflicts_follow_the_policy_and_losers_are_logged(w: W) {
    w.put("c.ics", &event("c@client", "Original"));
    w.sync_ok(&[]);
    let id = w.activities()["Original"]["id"].as_i64().unwrap();
    // Both change; the calendar later (LAST-MODIFIED in the future): it wins.
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--subject",
        "CRM title",
    ]);
    w.put(
        "c.ics",
        &event("c@client", "Calendar title")
            .replace("SUMMARY:", "LAST-MODIFIED:20990101T000000Z\r\nSUMMARY:"),
    );
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "conflicts"), 1, "{v:#}");
    assert_eq!(count(&v, "updated_in_crm"), 1, "{v:#}");
    assert_eq!(w.show(id)["fields"]["subject"], "Calendar title");
    let log = w.crm(&["report", "--conflicts"]);
    let rows = log["conflicts"].as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["loser"], "crm");
    assert!(rows[0]["data"].as_str().unwrap().contains("CRM title"));
    // Both change; the calendar's LAST-MODIFIED is old: the CRM wins.
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--subject",
        "CRM again",
    ]);
    w.put(
        "c.ics",
        &event("c@client", "Calendar again")
            .replace("SUMMARY:", "LAST-MODIFIED:20200101T000000Z\r\nSUMMARY:"),
    );
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_calendar"), 1, "{v:#}");
    assert_eq!(
        prop(&w.by_uid("c@client"), "SUMMARY").as_deref(),
        Some("CRM again")
    );
    let log = w.crm(&["report", "--conflicts"]);
    let last = log["conflicts"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["loser"], "groupware");
    assert!(
        last["data"]
            .as_str()
            .unwrap()
            .contains("SUMMARY:Calendar again")
    );
    // ask, unattended: nothing written, both kept, exit 3; then crm-wins.
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--subject",
        "CRM third",
    ]);
    w.put("c.ics", &event("c@client", "Calendar third"));
    let (code, v) = w.sync(&["--conflict", "ask"]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(actions(&v), vec!["reported C6"]);
    assert_eq!(w.show(id)["fields"]["subject"], "CRM third");
    assert_eq!(
        prop(&w.by_uid("c@client"), "SUMMARY").as_deref(),
        Some("Calendar third")
    );
    assert_eq!(
        w.crm(&["report", "--conflicts"])["conflicts"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let v = w.sync_ok(&["--conflict", "crm-wins"]);
    assert_eq!(count(&v, "updated_in_calendar"), 1, "{v:#}");
    assert_eq!(
        prop(&w.by_uid("c@client"), "SUMMARY").as_deref(),
        Some("CRM third")
    );
}

fn c7_deletions_travel_both_ways_and_mass_deletion_stops(w: W) {
    for i in 0..10 {
        w.put(
            &format!("d{i}.ics"),
            &event(&format!("d{i}@client"), &format!("Item {i}")),
        );
    }
    w.sync_ok(&[]);
    assert_eq!(w.activities().len(), 10);
    // One deleted in the calendar: deleted in the CRM.
    w.delete("d0.ics");
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "deleted_in_crm"), 1, "{v:#}");
    assert_eq!(w.activities().len(), 9);
    // Five of nine (over 20 %): nothing is deleted, exit 3, the flag named.
    for i in 1..6 {
        w.delete(&format!("d{i}.ics"));
    }
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(actions(&v), vec!["held back C7"]);
    assert!(
        v["items"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("--allow-mass-delete")
    );
    assert_eq!(w.activities().len(), 9);
    // The guard holds on the next run too (nothing was forgotten) ...
    let (code, _) = w.sync(&[]);
    assert_eq!(code, 3);
    // ... until the person allows it.
    let v = w.sync_ok(&["--allow-mass-delete"]);
    assert_eq!(count(&v, "deleted_in_crm"), 5, "{v:#}");
    assert_eq!(w.activities().len(), 4);
    // Deleted in the CRM: deleted in the calendar.
    let id = w.activities()["Item 6"]["id"].as_i64().unwrap();
    w.crm(&["crm", "activity", "delete", &id.to_string()]);
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "deleted_in_calendar"), 1, "{v:#}");
    assert!(!w.items().contains_key("d6.ics"));
    assert_eq!(w.items().len(), 3);
    // A calendar emptied on the server: the CRM side stops (C7).
    for i in 7..10 {
        w.delete(&format!("d{i}.ics"));
    }
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(w.activities().len(), 3);
}

fn c8_crm_link_is_written_once(mut w: W) {
    w.configure("[crm]\nlink = \"https://crm.example.com/a/{id}\"\n");
    w.put(
        "l.ics",
        &ics(
            "VEVENT",
            "l@client",
            &[
                "DTSTART:20261204T090000Z",
                "SUMMARY:Linked",
                "DESCRIPTION:Agenda",
            ],
        ),
    );
    w.sync_ok(&[]);
    let id = w.activities()["Linked"]["id"].as_i64().unwrap();
    let link = format!("https://crm.example.com/a/{id}");
    let text = w.by_uid("l@client");
    let desc = ical::parse(&text).unwrap()[0]
        .props
        .description
        .clone()
        .unwrap();
    assert_eq!(desc, format!("Agenda\n\n{link}"));
    // The CRM's text has no link in it.
    assert_eq!(w.show(id)["fields"]["text"], "Agenda");
    let before = w.items();
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    assert_eq!(w.items(), before);
    // A CRM edit of the text keeps the link once.
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--text",
        "New agenda",
    ]);
    w.sync_ok(&[]);
    let text = w.by_uid("l@client");
    let desc = ical::parse(&text).unwrap()[0]
        .props
        .description
        .clone()
        .unwrap();
    assert_eq!(desc, format!("New agenda\n\n{link}"));
    // CRM-made items get it from the start.
    let t = w.add(&[
        "--type",
        "task",
        "--subject",
        "Linked task",
        "--due",
        "2026-12-06",
    ]);
    w.sync_ok(&[]);
    let uid = w.show(t)["uid"].as_str().unwrap().to_string();
    assert_eq!(
        ical::parse(&w.by_uid(&uid)).unwrap()[0]
            .props
            .description
            .as_deref(),
        Some(format!("https://crm.example.com/a/{t}").as_str())
    );
}

fn c9_send_a_mail_activity_as_task_and_unlink_it(mut w: W) {
    let md = w.env.path("maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/data/maildir/cur/1763629200.M1P1.test:2,S"
        ),
        md.join("cur/1763629200.M1P1.test:2,S"),
    )
    .unwrap();
    w.configure(&format!(
        "[[mail.accounts]]\nname = \"alice-mail\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"{}\"\nfolders = [\"INBOX\"]\n",
        md.display()
    ));
    let (code, _, err) = w.env.run(&["--yes", "import-mail"]);
    assert_eq!(code, 0, "{err}");
    let report = w.crm(&["report"]);
    let mail = report["activities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["type"] == "email_in")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let id = mail.to_string();
    let v = w.sync_ok(&["--send", &id, "--as", "task"]);
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    let items = w.items();
    assert_eq!(items.len(), 1);
    let text = &items.values().next().unwrap().1;
    assert!(text.contains("BEGIN:VTODO"), "{text}");
    assert_eq!(prop(text, "SUMMARY").as_deref(), Some("maildir hello"));
    // Synced like any other from then on, and not sent twice.
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    let (code, v) = w.sync(&["--send", &id, "--as", "event"]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(w.items().len(), 1);
    // --unlink: the calendar entry goes, the activity stays.
    let v = w.sync_ok(&["--unlink", &id]);
    assert_eq!(count(&v, "deleted_in_calendar"), 1, "{v:#}");
    assert!(w.items().is_empty());
    assert_eq!(w.show(mail)["fields"]["subject"], "maildir hello");
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
    // Bad ids are usage errors that name the id.
    let (code, _, err) = w.env.run(&["sync-calendar", "--unlink", "999999"]);
    assert_eq!(code, 2);
    assert!(err.contains("999999"), "{err}");
}

fn c10_time_forms_and_unmodelled_properties_survive_crm_edits(w: W) {
    let forms = [
        (
            "allday",
            "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261225",
        ),
        (
            "floating",
            "DTSTART:20261207T080000\r\nDTEND:20261207T083000",
        ),
        ("utc", "DTSTART:20261208T080000Z\r\nDURATION:PT45M"),
        (
            "zoned",
            "DTSTART;TZID=America/New_York:20261209T170000\r\nDTEND;TZID=America/New_York:20261209T180000",
        ),
    ];
    for (name, times) in forms {
        w.put(
            &format!("{name}.ics"),
            &ics(
                "VEVENT",
                &format!("{name}@client"),
                &[
                    times,
                    &format!("SUMMARY:{name}"),
                    "CATEGORIES:Customer,Important",
                    "X-MS-OLK-SENDER:keep",
                    "BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:R\r\nTRIGGER:-PT5M\r\nEND:VALARM",
                ],
            ),
        );
    }
    w.sync_ok(&[]);
    for (name, _) in forms {
        let id = w.activities()[name]["id"].as_i64().unwrap();
        w.crm(&[
            "crm",
            "activity",
            "edit",
            &id.to_string(),
            "--subject",
            &format!("{name} edited"),
        ]);
    }
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_calendar"), 4, "{v:#}");
    for (name, times) in forms {
        let text = w.by_uid(&format!("{name}@client"));
        for line in times.split("\r\n") {
            assert!(text.contains(line), "{name}: {line} missing:\n{text}");
        }
        for keep in [
            "CATEGORIES:Customer,Important",
            "X-MS-OLK-SENDER:keep",
            "TRIGGER:-PT5M",
        ] {
            assert!(text.contains(keep), "{name}: {keep} missing:\n{text}");
        }
        assert_eq!(prop(&text, "SUMMARY"), Some(format!("{name} edited")));
    }
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
}

fn x8_dry_run_plans_and_writes_nothing(w: W) {
    w.put("n.ics", &event("n@client", "New on the server"));
    w.add(&[
        "--type",
        "appointment",
        "--subject",
        "New in the CRM",
        "--start",
        "2026-12-10",
    ]);
    let state = std::fs::read(w.env.path("state.sqlite")).unwrap();
    let before = w.items();
    let (code, v) = w.sync(&["--dry-run"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["dry_run"], true);
    assert_eq!(
        actions(&v),
        vec!["created in CRM C2", "created in calendar C3"],
        "{v:#}"
    );
    assert_eq!(std::fs::read(w.env.path("state.sqlite")).unwrap(), state);
    assert_eq!(w.items(), before);
}

#[test]
fn c12_broken_items_are_reported_and_the_run_goes_on_vdir() {
    // Radicale refuses such items itself; the vdir holds whatever a
    // client wrote.
    let w = W::new(false, "c12").unwrap();
    w.put(
        "broken.ics",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:garbage\r\n",
    );
    w.put("dup1.ics", &event("dup@client", "Dup one"));
    w.put("dup2.ics", &event("dup@client", "Dup two"));
    w.put("good.ics", &event("good@client", "Good"));
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(count(&v, "created_in_crm"), 1, "{v:#}");
    let reported: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["action"] == "reported")
        .map(|i| {
            format!(
                "{} {}",
                i["href"].as_str().unwrap(),
                i["reason"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(reported.len(), 3, "{reported:?}");
    assert!(reported[0].contains("broken.ics") && reported[0].contains("does not parse"));
    assert!(reported[1].contains("dup1.ics") && reported[1].contains("UID dup@client"));
    assert_eq!(w.activities().keys().collect::<Vec<_>>(), vec!["Good"]);
    // Fixed by the person: the next run syncs it.
    w.delete("broken.ics");
    w.delete("dup2.ics");
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_crm"), 1, "{v:#}");
}

// Scenarios with a fault proxy in front of the server (a vdir has no
// HTTP to cut).
crate::server_matrix!(
    sync_case
    [radicale xandikos]
    c12_a_write_the_server_refuses_is_reported_and_the_run_goes_on,
    c6_an_etag_changed_under_us_412_is_planned_again_and_no_edit_is_lost,
    c5_a_sync_token_the_server_forgot_lists_everything_and_loses_no_edit,
);

/// C5: the server no longer knows the stored sync-token (restored from a
/// backup, say; Radicale answers 403, Xandikos 412 with
/// DAV:valid-sync-token): the run lists everything, finds the edit, and
/// keeps the new token.
fn c5_a_sync_token_the_server_forgot_lists_everything_and_loses_no_edit(w: W) {
    w.put("a.ics", &event("a@client", "Alpha"));
    w.put("b.ics", &event("b@client", "Beta"));
    w.sync_ok(&[]);
    let db = rusqlite::Connection::open(w.env.path("state.sqlite")).unwrap();
    let forgotten = db
        .execute(
            "UPDATE cursors SET position = 'forgotten-token' WHERE position IS NOT NULL",
            [],
        )
        .unwrap();
    assert!(forgotten > 0, "no sync-token stored");
    w.put("a.ics", &event("a@client", "Alpha edited"));
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "updated_in_crm"), 1, "{v:#}");
    assert_eq!(actions(&v).len(), 1, "{v:#}");
    let acts = w.activities();
    assert!(acts.contains_key("Alpha edited") && acts.contains_key("Beta"));
    let kept: i64 = db
        .query_row(
            "SELECT count(*) FROM cursors WHERE position = 'forgotten-token'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 0, "the new token is stored");
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
}

fn c12_a_write_the_server_refuses_is_reported_and_the_run_goes_on(mut w: W) {
    // The server is out of storage for tasks (507), through a fault proxy.
    let (proxy, _) = fault_proxy(w.port(), |method, _, body| {
        (method == "PUT" && body.contains("BEGIN:VTODO")).then_some(507)
    });
    w.url = Some(format!("http://127.0.0.1:{proxy}/"));
    w.configure("");
    w.add(&[
        "--type",
        "task",
        "--subject",
        "Refused",
        "--due",
        "2026-12-06",
    ]);
    w.add(&[
        "--type",
        "appointment",
        "--subject",
        "Accepted",
        "--start",
        "2026-12-06T10:00:00Z",
    ]);
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    assert_eq!(count(&v, "failed"), 1, "{v:#}");
    let failed = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["action"] == "failed")
        .unwrap();
    assert_eq!(failed["subject"], "Refused");
    assert!(
        failed["reason"].as_str().unwrap().contains("507"),
        "{failed:#}"
    );
    assert_eq!(w.items().len(), 1);
    // The server has room again: the next run creates it, once.
    w.url = None;
    w.configure("");
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_calendar"), 1, "{v:#}");
    assert_eq!(w.items().len(), 2);
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
}

fn c6_an_etag_changed_under_us_412_is_planned_again_and_no_edit_is_lost(mut w: W) {
    w.put("p.ics", &event("p@client", "Planning"));
    w.sync_ok(&[]);
    let id = w.activities()["Planning"]["id"].as_i64().unwrap();
    w.crm(&[
        "crm",
        "activity",
        "edit",
        &id.to_string(),
        "--subject",
        "Planning (CRM)",
    ]);
    // Between our read and our write, the user edits the item: the
    // proxy makes that edit, then forwards our PUT, which the server
    // refuses with a real 412.
    let (url, auth) = (w.url("p.ics"), w.auth());
    let edited = event("p@client", "Planning")
        .replace("SUMMARY:", "DESCRIPTION:Bring the slides\r\nSUMMARY:");
    let done = std::sync::atomic::AtomicBool::new(false);
    let (proxy, _) = fault_proxy(w.port(), move |method, _, _| {
        if method == "PUT" && !done.swap(true, std::sync::atomic::Ordering::SeqCst) {
            let resp = harness::http(
                "PUT",
                &url,
                &[
                    ("Authorization", auth.as_str()),
                    ("Content-Type", "text/calendar"),
                ],
                edited.as_bytes(),
            )
            .unwrap();
            assert!(resp.status < 300);
        }
        None
    });
    w.url = Some(format!("http://127.0.0.1:{proxy}/"));
    w.configure("");
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 3, "{v:#}");
    assert_eq!(count(&v, "failed"), 1, "{v:#}");
    assert!(
        v["items"][0]["reason"].as_str().unwrap().contains("412"),
        "{v:#}"
    );
    // The next run sees both edits: a conflict, the loser logged.
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "conflicts"), 1, "{v:#}");
    let text = w.by_uid("p@client");
    assert_eq!(prop(&text, "SUMMARY").as_deref(), Some("Planning (CRM)"));
    let log = w.crm(&["report", "--conflicts"]);
    assert!(log.to_string().contains("Bring the slides"), "{log:#}");
}

#[test]
fn x2_wrong_password_blocks_the_calendar_account_until_it_changes() {
    let Some(w) = W::new(true, "x2") else { return };
    let (code, v) = w.sync_pw("wrong-password", &[]);
    assert_eq!(code, 1, "{v:#}");
    let err = v["errors"][0].as_str().unwrap();
    assert!(err.contains("crmsync unblock alice-cal"), "{err}");
    assert!(!err.contains("wrong-password"));
    let (code, v) = w.sync_pw("wrong-password", &[]);
    assert_eq!(code, 1);
    assert!(
        v["errors"][0].as_str().unwrap().contains("blocked since"),
        "{v:#}"
    );
    // A changed password is tried again (X2).
    w.sync_ok(&[]);
}

#[test]
fn x5_killed_mid_sync_then_rerun_loses_nothing_duplicates_nothing() {
    let Some(mut w) = W::new(true, "x5cal") else {
        return;
    };
    w.configure("[crm]\nlink = \"https://crm.example.com/a/{id}\"\n");
    let n = 80;
    for i in 0..n {
        w.put(
            &format!("k{i}.ics"),
            &event(&format!("k{i}@client"), &format!("Server {i}")),
        );
        w.add(&[
            "--type",
            "appointment",
            "--subject",
            &format!("CRM {i}"),
            "--start",
            "2026-12-11T09:00:00Z",
        ]);
    }
    for delay in [150u64, 400, 800, 1400] {
        let mut child = w
            .env
            .cmd()
            .env("DAV_PW", w.pw())
            .args(["sync-calendar"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    let (code, v) = w.sync(&[]);
    assert_eq!(code, 0, "{v:#}");
    // Every item exactly once on each side, each pair linked.
    let acts = w.activities();
    assert_eq!(acts.len(), 2 * n, "CRM: {:?}", acts.keys());
    let items = w.items();
    assert_eq!(items.len(), 2 * n, "calendar: {:?}", items.keys());
    let mut uids: Vec<String> = items
        .values()
        .map(|(_, t)| prop(t, "UID").unwrap())
        .collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), 2 * n, "duplicate UIDs on the server");
    let by_subject: BTreeMap<String, &String> = items
        .values()
        .map(|(_, t)| (prop(t, "SUMMARY").unwrap(), t))
        .collect();
    for (subject, a) in &acts {
        let id = a["id"].as_i64().unwrap();
        let text = by_subject
            .get(subject)
            .unwrap_or_else(|| panic!("{subject} is not in the calendar"));
        // C8: the link once, also for items linked just before a kill.
        let link = format!("https://crm.example.com/a/{id}");
        assert_eq!(text.matches(&link).count(), 1, "{text}");
    }
    let v = w.sync_ok(&[]);
    assert!(actions(&v).is_empty(), "{v:#}");
}

/// A vdir world with alice's Maildir (one mail from Jane) as mail account;
/// `areas` is `[mail] areas`.
fn w1_world(areas: &str) -> W {
    let mut w = W::new(false, "w1").unwrap();
    let md = w.env.path("maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(md.join(sub)).unwrap();
    }
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/e2e/data/maildir/cur/1763629200.M1P1.test:2,S"
        ),
        md.join("cur/1763629200.M1P1.test:2,S"),
    )
    .unwrap();
    w.configure(&format!(
        "[mail]\nareas = {areas}\n\n[[mail.accounts]]\nname = \"alice-mail\"\nuser = \"alice\"\nsource = \"maildir\"\npath = \"{}\"\nfolders = [\"INBOX\"]\n",
        md.display()
    ));
    w.put("ev.ics", &event("ev@client", "Wizard event"));
    w.put(
        "td.ics",
        &ics(
            "VTODO",
            "td@client",
            &["DUE;VALUE=DATE:20261210", "SUMMARY:Wizard task"],
        ),
    );
    w
}

#[test]
fn w1_wizard_areas_choose_appointments_and_tasks_instead_of_mail() {
    let w = w1_world("[\"mail\"]");
    let bin = assert_cmd::cargo::cargo_bin("crmsync");
    let config = w.env.config.display().to_string();
    let mut p = crate::pty::Pty::spawn(&bin, &["--config", &config, "import-mail"], &[]);
    // W1: mail is preselected (the config's default); swap it for
    // appointments and tasks: space, down, space, down, space, enter.
    p.expect("What to import now");
    for key in [" ", "\x1b[B", " ", "\x1b[B", " ", "\r"] {
        p.send(key);
    }
    p.expect("CRM: 2 created");
    let (code, screen) = p.wait();
    assert_eq!(code, 0, "{screen}");
    let acts = w.activities();
    assert_eq!(
        acts.keys().collect::<Vec<_>>(),
        vec!["Wizard event", "Wizard task"],
        "{screen}"
    );
    let mails = w.crm(&["report"])["activities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "email_in")
        .count();
    assert_eq!(mails, 0, "mail was not chosen: {screen}");
}

#[test]
fn w6_unattended_areas_from_config_mail_and_appointments_only() {
    let w = w1_world("[\"mail\", \"appointments\"]");
    let v = w.crm(&["--yes", "import-mail"]);
    assert_eq!(v["counts"]["imported"], 1, "{v:#}");
    assert_eq!(v["calendar"]["counts"]["created_in_crm"], 1, "{v:#}");
    // Appointments only: the task stays out, on both sides, and is not
    // taken for deleted later.
    assert_eq!(
        w.activities().keys().collect::<Vec<_>>(),
        vec!["Wizard event"]
    );
    let v = w.sync_ok(&[]);
    assert_eq!(count(&v, "created_in_crm"), 1, "{v:#}");
    assert_eq!(w.activities().len(), 2);
    let v = w.crm(&["--yes", "import-mail"]);
    assert_eq!(v["calendar"]["counts"]["deleted_in_crm"], 0, "{v:#}");
    assert_eq!(v["calendar"]["items"], serde_json::json!([]), "{v:#}");
}
