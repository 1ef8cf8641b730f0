//! M4 outlines from BODYSTRUCTURE: a mail larger than `max_size` is not
//! fetched whole; its BODYSTRUCTURE gives the leaves (body text or
//! attachment, as `parse::mail` decides) and the MIME tree, from which the
//! FETCH sections to ask for and a stand-in message (headers and text
//! bodies as the server has them, attachment bodies empty) are built.

/// A leaf part of a BODYSTRUCTURE.
#[derive(Debug)]
pub(super) struct Leaf {
    /// Body text (text/plain or text/html, not an attachment).
    pub(super) text: bool,
    pub(super) octets: u64,
    pub(super) base64: bool,
    pub(super) name: Option<String>,
    pub(super) media_type: String,
}

pub(super) fn param<'a>(
    params: &'a imap_proto::types::BodyParams<'_>,
    key: &str,
) -> Option<&'a str> {
    params
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_ref())
}

/// As `parse::mail` decides: text/plain and text/html parts without a file
/// name and not `Content-Disposition: attachment` are body text; every
/// other leaf (nested mails included) is an attachment.
pub(super) fn outline_leaves(
    bs: &imap_proto::types::BodyStructure<'_>,
    path: &mut Vec<u32>,
    out: &mut Vec<Leaf>,
) {
    use imap_proto::types::BodyStructure as B;
    let (common, other, text_type) = match bs {
        B::Multipart { bodies, .. } => {
            for (i, b) in bodies.iter().enumerate() {
                path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                outline_leaves(b, path, out);
                path.pop();
            }
            return;
        }
        B::Text { common, other, .. } => (common, other, true),
        B::Basic { common, other, .. } | B::Message { common, other, .. } => (common, other, false),
    };
    let media_type = format!("{}/{}", common.ty.ty, common.ty.subtype).to_ascii_lowercase();
    let name = common
        .disposition
        .as_ref()
        .and_then(|d| param(&d.params, "filename"))
        .or_else(|| param(&common.ty.params, "name"))
        .map(str::to_string);
    let attachment_disposition = common
        .disposition
        .as_ref()
        .is_some_and(|d| d.ty.eq_ignore_ascii_case("attachment"));
    let text = text_type
        && matches!(media_type.as_str(), "text/plain" | "text/html")
        && name.is_none()
        && !attachment_disposition;
    out.push(Leaf {
        text,
        octets: u64::from(other.octets),
        base64: matches!(
            other.transfer_encoding,
            imap_proto::types::ContentEncoding::Base64
        ),
        name,
        media_type,
    });
}

/// The MIME tree of a message, for the stand-in of an [`Outline`].
#[derive(Debug)]
pub(super) enum OutlineTree {
    Multipart {
        boundary: String,
        children: Vec<OutlineTree>,
    },
    Leaf {
        text: bool,
    },
}

impl OutlineTree {
    pub(super) fn of(bs: &imap_proto::types::BodyStructure<'_>) -> OutlineTree {
        use imap_proto::types::BodyStructure as B;
        match bs {
            B::Multipart { common, bodies, .. } => OutlineTree::Multipart {
                boundary: param(&common.ty.params, "boundary")
                    .unwrap_or("crmsync-outline")
                    .to_string(),
                children: bodies.iter().map(OutlineTree::of).collect(),
            },
            other => {
                let mut l = Vec::new();
                outline_leaves(other, &mut Vec::new(), &mut l);
                OutlineTree::Leaf {
                    text: l.first().is_some_and(|l| l.text),
                }
            }
        }
    }

    /// FETCH items: `BODY.PEEK[n.MIME]` for every part below the top,
    /// `BODY.PEEK[n]` for text leaves (`[1]` for a one-part message).
    pub(super) fn sections(&self, path: &mut Vec<u32>, out: &mut Vec<String>) {
        let dotted = |p: &[u32]| p.iter().map(u32::to_string).collect::<Vec<_>>().join(".");
        if !path.is_empty() {
            out.push(format!("BODY.PEEK[{}.MIME]", dotted(path)));
        }
        match self {
            OutlineTree::Multipart { children, .. } => {
                for (i, c) in children.iter().enumerate() {
                    path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    c.sections(path, out);
                    path.pop();
                }
            }
            OutlineTree::Leaf { text: true } if path.is_empty() => {
                out.push("BODY.PEEK[1]".to_string());
            }
            OutlineTree::Leaf { text: true } => out.push(format!("BODY.PEEK[{}]", dotted(path))),
            OutlineTree::Leaf { text: false } => {}
        }
    }

    /// Writes the stand-in message: headers and boundaries as the server
    /// has them, text bodies fetched, attachment bodies empty.
    pub(super) fn build(
        &self,
        top: &[u8],
        f: &imap::types::Fetch<'_>,
        path: &mut Vec<u32>,
        out: &mut Vec<u8>,
    ) {
        use imap_proto::types::{MessageSection, SectionPath};
        if path.is_empty() {
            out.extend_from_slice(top);
        } else if let Some(h) =
            f.section(&SectionPath::Part(path.clone(), Some(MessageSection::Mime)))
        {
            out.extend_from_slice(h);
        } else {
            out.extend_from_slice(b"\r\n");
        }
        match self {
            OutlineTree::Multipart { boundary, children } => {
                for (i, c) in children.iter().enumerate() {
                    out.extend_from_slice(format!("\r\n--{boundary}\r\n").as_bytes());
                    path.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                    c.build(top, f, path, out);
                    path.pop();
                }
                out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            }
            OutlineTree::Leaf { text: true } => {
                let p = if path.is_empty() {
                    vec![1]
                } else {
                    path.clone()
                };
                if let Some(body) = f.section(&SectionPath::Part(p, None)) {
                    out.extend_from_slice(body);
                }
            }
            OutlineTree::Leaf { text: false } => {}
        }
    }
}
