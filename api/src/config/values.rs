//! The typed values of the configuration that are more than a number or a path: a secret
//! that must not reach a log, and the public URL the service is reached at.
use serde::{Deserialize, Serialize};

/// A value that must not reach a log: `Debug` and `Display` print
/// `Secret([redacted])`. Serde-transparent, so figment loads it from the
/// environment or the file as the plain value. Read it with [`Secret::expose`],
/// only where it is handed to the library that needs it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> std::fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<T> std::fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret<String> {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret<String> {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// The public base URL of this service (`ASSIST_PUBLIC_URL`): `http(s)://host[:port][/path]`,
/// no query or fragment, kept without a trailing slash. Links the service publishes
/// (OCDS URIs and release ids, links in emails) are built from it with [`PublicUrl::join`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicUrl(pub(super) String);

impl TryFrom<String> for PublicUrl {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let url = raw.trim().trim_end_matches('/').to_string();
        let uri = url.parse::<actix_web::http::Uri>().ok();
        let ok = uri.as_ref().is_some_and(|u| {
            matches!(u.scheme_str(), Some("http" | "https"))
                && u.host().is_some_and(|h| !h.is_empty())
                && u.query().is_none()
        }) && !url.contains('#');
        if ok {
            Ok(PublicUrl(url))
        } else {
            Err(format!(
                "ASSIST_PUBLIC_URL must be an http(s) URL such as https://market.example.org, got {raw:?}"
            ))
        }
    }
}

impl From<PublicUrl> for String {
    fn from(u: PublicUrl) -> String {
        u.0
    }
}

impl std::fmt::Display for PublicUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PublicUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The base followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }

    /// `http://<host>:<port>` of a listening address; an unspecified host (`0.0.0.0`, `::`)
    /// becomes the loopback address.
    pub fn of_listener(addr: std::net::SocketAddr) -> PublicUrl {
        let ip = match addr.ip() {
            ip if ip.is_unspecified() => std::net::IpAddr::from([127, 0, 0, 1]),
            ip => ip,
        };
        PublicUrl(format!("http://{}", std::net::SocketAddr::new(ip, addr.port())))
    }
}

/// The UTC offset of the business calendar (`ASSIST_BUSINESS_UTC_OFFSET`, `+08:00` by default:
/// China time, which has no daylight saving). Budget years and months, "today" in every date
/// check, and the days of `from`/`to` filters follow it; instants are stored and shown in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BusinessOffset(pub chrono::FixedOffset);

impl TryFrom<String> for BusinessOffset {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, String> {
        let bad = || {
            format!("ASSIST_BUSINESS_UTC_OFFSET must be an offset from -12:00 to +14:00 such as +08:00, got {raw:?}")
        };
        let s = raw.trim();
        let (sign, rest) = match s.as_bytes().first() {
            Some(b'+') => (1, &s[1..]),
            Some(b'-') => (-1, &s[1..]),
            _ => return Err(bad()),
        };
        let (h, m) = rest.split_once(':').ok_or_else(bad)?;
        let digits = |v: &str| v.len() == 2 && v.bytes().all(|b| b.is_ascii_digit());
        if !digits(h) || !digits(m) {
            return Err(bad());
        }
        let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        let secs = sign * (h * 3600 + m * 60);
        if m >= 60 || !(-12 * 3600..=14 * 3600).contains(&secs) {
            return Err(bad());
        }
        chrono::FixedOffset::east_opt(secs).map(BusinessOffset).ok_or_else(bad)
    }
}

impl From<BusinessOffset> for String {
    fn from(o: BusinessOffset) -> String {
        o.0.to_string()
    }
}

/// China time, the default business calendar.
const CHINA: chrono::FixedOffset = match chrono::FixedOffset::east_opt(8 * 3600) {
    Some(o) => o,
    None => panic!("8 hours east is a valid offset"), // evaluated at compile time
};

impl Default for BusinessOffset {
    fn default() -> Self {
        BusinessOffset(CHINA)
    }
}

/// The last days of a budget year a `year_end_spike` is measured over
/// (`ASSIST_FLAG_YEAR_END_DAYS`, 30 by default): 1 to 366, refused at start otherwise. The
/// window never starts before 1 January of its year (366 is the whole year, leap or not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct YearEndDays(u16);

impl YearEndDays {
    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for YearEndDays {
    type Error = String;
    fn try_from(days: i64) -> Result<Self, String> {
        match u16::try_from(days) {
            Ok(d @ 1..=366) => Ok(YearEndDays(d)),
            _ => Err(format!(
                "ASSIST_FLAG_YEAR_END_DAYS must be a number of days from 1 to 366, got {days}"
            )),
        }
    }
}

impl From<YearEndDays> for i64 {
    fn from(d: YearEndDays) -> i64 {
        d.get()
    }
}

impl Default for YearEndDays {
    fn default() -> Self {
        YearEndDays(30)
    }
}
