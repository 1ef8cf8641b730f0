//! Compose: typed items to bytes for the groupware side (the RFC 822
//! notices of M10/M11). The opposite direction of [`crate::parse`].

/// M5: the RFC 822 text of an owner notice from crmsync to `owner` (the
/// owner's own address, so it lands in their INBOX), with CRLF line ends.
/// `message_id` names the notice so that it is appended only once.
pub fn notice(owner: &str, subject: &str, date: &str, message_id: &str, body: &str) -> String {
    format!(
        "From: crmsync <{owner}>\r\nTo: <{owner}>\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: {message_id}\r\n\
         Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{}",
        body.replace('\n', "\r\n")
    )
}

/// M5: the Message-ID of the notice about the mail `key`: the same every
/// run, so a notice already in INBOX is found and not appended twice.
pub fn notice_message_id(key: &str) -> String {
    format!(
        "<crmsync-notice-{}@crmsync.invalid>",
        &crate::model::source_key(&[key])[..24]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn m5_notice_is_an_auto_submitted_crlf_message_to_the_owner() {
        let raw = notice(
            "alice@us.example",
            "crmsync: \"Hi\" was not imported",
            "Tue, 8 Dec 2026 00:00:00 +0000",
            "<crmsync-notice-abc@crmsync.invalid>",
            "The mail\n\nwas not imported.\n",
        );
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        assert_eq!(
            head,
            "From: crmsync <alice@us.example>\r\nTo: <alice@us.example>\r\n\
             Subject: crmsync: \"Hi\" was not imported\r\nDate: Tue, 8 Dec 2026 00:00:00 +0000\r\n\
             Message-ID: <crmsync-notice-abc@crmsync.invalid>\r\nAuto-Submitted: auto-generated\r\n\
             MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit"
        );
        assert_eq!(body, "The mail\r\n\r\nwas not imported.\r\n");
        let parsed = crate::parse::mail::parse(raw.as_bytes()).unwrap();
        assert!(parsed.automated);
    }

    #[test]
    fn m5_notice_message_id_is_stable_per_mail() {
        let a = notice_message_id("acct:<m1@x>");
        assert_eq!(a, notice_message_id("acct:<m1@x>"));
        assert_ne!(a, notice_message_id("acct:<m2@x>"));
        assert!(a.starts_with("<crmsync-notice-") && a.ends_with("@crmsync.invalid>"));
        assert_eq!(a.len(), "<crmsync-notice-@crmsync.invalid>".len() + 24);
    }
}
