//! Sends one email: SMTP when configured, otherwise an `.eml` file in a folder.
use crate::config::Settings;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
        /// False since the last attempt failed for a reason that may pass (server unreachable,
        /// timeout, 4xx); true once the server answers again (`/readyz` reports it).
        answering: Arc<AtomicBool>,
    },
    Dir {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
        from: Mailbox,
    },
}

impl Mailer {
    pub fn from_settings(s: &Settings) -> Result<Mailer, String> {
        let from: Mailbox = s
            .mail_from
            .parse()
            .map_err(|e| format!("mail_from is not an address: {e}"))?;
        match &s.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| format!("ASSIST_SMTP_URL: {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(10)))
                    .build();
                Ok(Mailer::Smtp {
                    transport,
                    from,
                    answering: Arc::new(AtomicBool::new(true)),
                })
            }
            None => {
                let dir = s.mail_dir();
                std::fs::create_dir_all(&dir)
                    .map_err(|e| format!("cannot create mail folder {}: {e}", dir.display()))?;
                Ok(Mailer::Dir {
                    transport: AsyncFileTransport::new(&dir),
                    dir,
                    from,
                })
            }
        }
    }

    /// `None` without SMTP; else whether the last attempt reached a server that answered.
    pub fn smtp_answering(&self) -> Option<bool> {
        match self {
            Mailer::Smtp { answering, .. } => Some(answering.load(Ordering::Relaxed)),
            Mailer::Dir { .. } => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Mailer::Smtp { .. } => "SMTP".into(),
            Mailer::Dir { dir, .. } => format!("files in {}", dir.display()),
        }
    }

    /// Sends one email with `Message-ID: <message_id@assist-market.local>` (the same on every
    /// attempt, so a receiver can drop a repeat).
    pub async fn send(&self, to: &str, subject: &str, body: &str, message_id: &str) -> Result<(), SendError> {
        let from = match self {
            Mailer::Smtp { from, .. } | Mailer::Dir { from, .. } => from.clone(),
        };
        let to: Mailbox = to
            .parse()
            .map_err(|e| SendError::permanent(format!("bad recipient {to}: {e}")))?;
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{message_id}@assist-market.local>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| SendError::permanent(format!("cannot build message: {e}")))?;
        match self {
            Mailer::Smtp {
                transport, answering, ..
            } => {
                let res = transport.send(msg).await.map(|_| ()).map_err(|e| SendError {
                    // A 5xx reply: the server will never take this message. Anything else
                    // (4xx, connection refused, timeout, TLS) may pass later.
                    permanent: e.is_permanent(),
                    message: e.to_string(),
                });
                answering.store(res.as_ref().map_or_else(|e| e.permanent, |_| true), Ordering::Relaxed);
                res
            }
            Mailer::Dir { transport, .. } => transport
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| SendError::transient(e.to_string())),
        }
    }
}

/// Why an email was not sent, and whether trying again can help.
#[derive(Debug, Clone)]
pub struct SendError {
    /// True when no retry can succeed (a 5xx reply, a malformed address or message).
    pub permanent: bool,
    pub message: String,
}

impl SendError {
    pub fn permanent(message: String) -> SendError {
        SendError {
            permanent: true,
            message,
        }
    }

    pub fn transient(message: String) -> SendError {
        SendError {
            permanent: false,
            message,
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}
