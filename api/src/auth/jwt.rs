//! JWT access and refresh tokens, HS256 only.
use crate::domain::{OrgId, Role, UserId};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims of both token kinds. The ids and the role are parsed when the
/// token is decoded: a token whose ids are not UUIDs does not verify.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: UserId,
    pub org: OrgId,
    pub role: Role,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub typ: TokenType,
    /// The session (login) the token belongs to: every token of a login shares it, and all
    /// are refused once the session is revoked. A token without one does not verify.
    pub sid: String,
}

/// Which of the pair a token is: only an access token opens the API, only a
/// refresh token buys a new pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

pub struct JwtKeys {
    enc: EncodingKey,
    dec: DecodingKey,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> JwtKeys {
        JwtKeys {
            enc: EncodingKey::from_secret(secret),
            dec: DecodingKey::from_secret(secret),
        }
    }

    pub fn issue(&self, claims: &Claims) -> Result<String, String> {
        encode(&Header::new(Algorithm::HS256), claims, &self.enc).map_err(|e| e.to_string())
    }

    /// Verifies signature, algorithm (HS256 only: `none` and every other algorithm are refused) and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub", "jti"]);
        decode::<Claims>(token, &self.dec, &v)
            .map(|d| d.claims)
            .map_err(|e| e.to_string())
    }
}
