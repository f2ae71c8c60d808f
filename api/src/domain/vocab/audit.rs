use super::vocabulary;

vocabulary!(
    /// A security event written to the append-only audit log.
    AuditKind {
        /// A login that issued tokens.
        LoginSucceeded = "login_succeeded",
        /// A wrong email or password, or a login refused after the password (suspended
        /// organisation, deactivated user).
        LoginFailed = "login_failed",
        /// The failure that used up an account's allowance: further attempts are 429 until
        /// the window ends.
        LoginLocked = "login_locked",
        /// A session ended by its user.
        Logout = "logout",
        /// A spent refresh token presented again: its whole family was revoked.
        RefreshReused = "refresh_reused",
        /// A user created, with its organisation and role.
        UserCreated = "user_created",
        /// A user deactivated: it can no longer log in, its sessions were revoked.
        UserDeactivated = "user_deactivated",
        /// An organisation suspended.
        OrganizationSuspended = "organization_suspended",
        /// A suspended organisation reinstated.
        OrganizationReinstated = "organization_reinstated",
    }
);
