//! Header values written the long way round that RFC 3261's grammar allows and the SIP
//! library's typed parsers do not: linear white space around `;` and `=` (SEMI and EQUAL are
//! `SWS ";" SWS`, `SWS "=" SWS`, §25.1), and in Via around `/` and `:` of the sent-protocol
//! and sent-by (SLASH, COLON). Header line folding (§7.3.1) the library already undoes.
//!
//! RFC 4475 §3.1.1.1 (`wsinv`) is the test: its From tag is `tag = 98asjd8` across folded
//! lines, and the library, reading no tag, drops the request before carecall sees it. The
//! values are tidied (white space dropped where the grammar makes it meaningless, never inside
//! a quoted string or `<…>`) on every incoming request, before the library reads them.

use rsipstack::sip::{Header, Request};

/// Tidies the From, To, Contact and top Via values of `req` in place.
pub(super) fn tidy_request(req: &mut Request) {
    let mut via_seen = false;
    for header in req.headers.iter_mut() {
        match header {
            Header::From(h) => tidy_in_place(&mut h.0, false),
            Header::To(h) => tidy_in_place(&mut h.0, false),
            Header::Contact(h) => tidy_in_place(&mut h.0, false),
            Header::Via(h) if !via_seen => {
                via_seen = true;
                let tidied = tidy(h.value(), true);
                if tidied != h.value() {
                    h.replace(tidied);
                }
            }
            _ => {}
        }
    }
}

fn tidy_in_place(value: &mut String, via: bool) {
    let tidied = tidy(value, via);
    if tidied != *value {
        *value = tidied;
    }
}

/// `value` without the white space next to `;` and `=` (and, for a Via, `/` and `:`) outside
/// quoted strings and angle brackets; other runs of white space become one space.
pub(super) fn tidy(value: &str, via: bool) -> String {
    let sticky = |c: char| c == ';' || c == '=' || (via && (c == '/' || c == ':'));
    let mut out = String::with_capacity(value.len());
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    let mut pending_space = false;
    for c in value.trim().chars() {
        if quoted || angle {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' if quoted => quoted = false,
                '>' if angle => angle = false,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !sticky(c) && !out.ends_with(sticky) {
            out.push(' ');
        }
        pending_space = false;
        match c {
            '"' => quoted = true,
            '<' => angle = true,
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn white_space_around_separators_goes_quoted_strings_stay() {
        assert_eq!(
            tidy(
                r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#,
                false
            ),
            r#""J Rosenberg \\\"" <sip:jdrosen@example.com>;tag=98asjd8"#
        );
        assert_eq!(
            tidy(
                "sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n",
                false
            ),
            "sip:vivekg@chair-dnrc.example.com;tag=1918181833n"
        );
        assert_eq!(
            tidy("SIP  /   2.0 /UDP 192.0.2.2 : 5060 ;branch=390skdjuw", true),
            "SIP/2.0/UDP 192.0.2.2:5060;branch=390skdjuw"
        );
        assert_eq!(
            tidy(r#""a ; b = c" <sip:x@y;  lr>;q = 0.5"#, false),
            r#""a ; b = c" <sip:x@y;  lr>;q=0.5"#,
            "inside quotes and <…> nothing moves"
        );
        let plain = "\"Bob\" <sip:bob@biloxi.example.com>;tag=a73kszlfl";
        assert_eq!(tidy(plain, false), plain, "a usual value is unchanged");
    }
}
