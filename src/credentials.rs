//! Credentials from the environment, per provider. Keys are never read from
//! flags or config files, so they stay out of shell history and version control.

use tapewatch_actors::secret::{ApiKey, Credentials};

/// Where each provider's secrets come from.
pub const POLYGON_KEYS: [&str; 2] = ["POLYGON_API_KEY", "MASSIVE_API_KEY"];
/// Alpaca key id and secret.
pub const ALPACA_KEYS: [&str; 2] = ["APCA_API_KEY_ID", "APCA_API_SECRET_KEY"];

/// Reads the credentials `provider` needs through `var` (the environment in
/// production, a table in tests). The error says which variables to set.
pub fn from_env(
    provider: &str,
    var: impl Fn(&str) -> Option<String>,
) -> Result<Credentials, String> {
    let get = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(ApiKey::new)
    };
    let polygon = || POLYGON_KEYS.iter().find_map(|n| get(n));
    match provider {
        // A configured protocol reads its secrets through `${env:NAME}`.
        "generic" => Ok(Credentials {
            key: ApiKey::new(""),
            secret: None,
            rest: polygon(),
        }),
        "alpaca" => {
            let (id, secret) = (get(ALPACA_KEYS[0]), get(ALPACA_KEYS[1]));
            match (id, secret) {
                (Some(key), Some(secret)) => Ok(Credentials {
                    key,
                    secret: Some(secret),
                    // Alpaca alerts are enriched from Polygon when a key is there.
                    rest: polygon(),
                }),
                _ => Err("set APCA_API_KEY_ID and APCA_API_SECRET_KEY".to_owned()),
            }
        }
        _ => polygon()
            .map(Credentials::key)
            .ok_or_else(|| "set POLYGON_API_KEY (or MASSIVE_API_KEY)".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn each_provider_reads_its_own_variables() {
        let c = from_env("polygon", env(&[("MASSIVE_API_KEY", "m")])).expect("massive key");
        assert_eq!(
            (c.key.expose(), c.secret.is_none(), c.rest.is_none()),
            ("m", true, true)
        );
        let c = from_env(
            "polygon",
            env(&[("POLYGON_API_KEY", "p"), ("MASSIVE_API_KEY", "m")]),
        )
        .expect("polygon key first");
        assert_eq!(c.key.expose(), "p");
        let vars = [
            ("APCA_API_KEY_ID", "id"),
            ("APCA_API_SECRET_KEY", "s"),
            ("POLYGON_API_KEY", "p"),
        ];
        let c = from_env("alpaca", env(&vars)).expect("alpaca keys");
        assert_eq!(c.key.expose(), "id");
        assert_eq!(c.secret.as_ref().map(ApiKey::expose), Some("s"));
        assert_eq!(c.rest.as_ref().map(ApiKey::expose), Some("p"));
    }

    #[test]
    fn missing_variables_are_named() {
        let e = from_env("polygon", env(&[("POLYGON_API_KEY", "  ")])).expect_err("blank key");
        assert!(e.contains("POLYGON_API_KEY"), "{e}");
        let e = from_env("alpaca", env(&[("APCA_API_KEY_ID", "id")])).expect_err("no secret");
        assert!(e.contains("APCA_API_SECRET_KEY"), "{e}");
    }
}
