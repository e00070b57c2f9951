//! The resolved client settings: everything needed to talk to one server, gathered from the
//! options, a provider preset and discovery. The cache keeps them (without the secret) so
//! that `refresh` and `token` can run without the original command line.

use device_grant::{ClientAuth, ClientSecret, Config, DefaultAuth, Profile};
use serde::{Deserialize, Serialize};

use crate::args::{AuthMethod, ClientArgs, ServerArgs};
use crate::discovery;
use crate::exit::CliError;
use crate::provider::Provider;
use crate::transport::Http;

/// Settings that name a server and a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSettings {
    /// The dialect; `None` is plain RFC 8628.
    pub provider: Option<Provider>,
    /// The client id.
    pub client_id: String,
    /// How the client authenticates; the secret itself is never stored.
    pub auth_method: AuthMethod,
    /// The device authorization endpoint (not needed to refresh).
    pub device_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: String,
    /// Where `logout` revokes the refresh token (RFC 7009), when known from discovery or
    /// the preset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The scopes requested at login, sent again with refreshes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Azure AD v1's resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Whether plain http was allowed on a host other than loopback.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure_http: bool,
}

/// Which endpoints the command needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Both: a device flow.
    DeviceFlow,
    /// The token endpoint only: a refresh.
    Refresh,
}

impl ClientSettings {
    /// Resolves the options into settings. Discovery (with `--issuer`) is the only network
    /// access.
    pub fn resolve(
        server: &ServerArgs,
        client: &ClientArgs,
        needs: Needs,
        http: &Http,
    ) -> Result<Self, CliError> {
        let client_id = match client.client_id.as_deref() {
            Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
            _ => {
                return Err(CliError::usage(
                    "no client id: pass --client-id or set DEVICE_GRANT_CLIENT_ID",
                ));
            }
        };
        let provider = server.provider;
        let location = resolve_location(server)?;
        let resource = resolve_resource(provider, client.resource.as_deref())?;
        let auth_method = resolve_auth_method(
            provider,
            client.auth_method,
            client.secret.client_secret.is_some(),
        )?;

        // Later sources win: preset, then discovery, then explicit endpoints.
        let (mut device, mut token) = match provider {
            Some(p) => {
                let (d, t) = p.endpoints(location.as_deref());
                (Some(d), Some(t))
            }
            None => (None, None),
        };
        let mut revocation = provider
            .and_then(Provider::revocation_endpoint)
            .map(str::to_owned);
        let explicit_device = server.device_endpoint.clone();
        let explicit_token = server.token_endpoint.clone();
        if let Some(issuer) = &server.issuer {
            let both_explicit =
                explicit_token.is_some() && (explicit_device.is_some() || needs == Needs::Refresh);
            if both_explicit {
                return Err(CliError::usage(
                    "--issuer is not needed when --device-endpoint and --token-endpoint are given; drop one or the other",
                ));
            }
            let metadata = discovery::discover(http, issuer, server.allow_insecure_http)?;
            device = metadata.device_authorization_endpoint.or(device);
            token = Some(metadata.token_endpoint);
            revocation = metadata.revocation_endpoint.or(revocation);
        }
        device = explicit_device.or(device);
        token = explicit_token.or(token);

        let token_endpoint = token.ok_or_else(|| {
            CliError::usage(
                "no token endpoint: pass --provider, --issuer, or --token-endpoint (with --device-endpoint for login)",
            )
        })?;
        if needs == Needs::DeviceFlow && device.is_none() {
            return Err(CliError::usage(if server.issuer.is_some() {
                "the issuer's metadata names no device_authorization_endpoint (the server may not support the device flow); pass --device-endpoint"
            } else {
                "no device authorization endpoint: pass --provider, --issuer, or --device-endpoint with --token-endpoint"
            }));
        }
        let settings = ClientSettings {
            provider,
            client_id,
            auth_method,
            device_endpoint: device,
            token_endpoint,
            revocation_endpoint: revocation,
            scopes: client
                .scopes
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_owned)
                .collect(),
            resource,
            allow_insecure_http: server.allow_insecure_http,
        };
        if settings.provider.is_some_and(|p| p.preset().requires.scope)
            && settings.scopes.is_empty()
            && needs == Needs::DeviceFlow
        {
            return Err(CliError::usage(
                "Microsoft requires at least one --scope, for example --scope 'openid offline_access'",
            ));
        }
        Ok(settings)
    }

    /// Builds the core's configuration. `secret` is required unless the method is `none`.
    pub fn config(
        &self,
        secret: Option<&str>,
        params: &[(String, String)],
    ) -> Result<Config, CliError> {
        self.config_with_dpop(secret, params, None)
    }

    /// As [`ClientSettings::config`], with every request signed by the DPoP key `dpop`.
    pub fn config_with_dpop(
        &self,
        secret: Option<&str>,
        params: &[(String, String)],
        dpop: Option<std::sync::Arc<dyn device_grant::DpopSigner>>,
    ) -> Result<Config, CliError> {
        let auth = match (self.auth_method, secret) {
            (AuthMethod::None, _) => ClientAuth::None,
            (AuthMethod::Basic, Some(s)) => ClientAuth::Basic(ClientSecret::new(s)),
            (AuthMethod::Post, Some(s)) => ClientAuth::Post(ClientSecret::new(s)),
            (_, None) => {
                return Err(CliError::usage(
                    "this client authenticates with a secret: set DEVICE_GRANT_CLIENT_SECRET (or pass --client-secret)",
                ));
            }
        };
        let profile = self
            .provider
            .map_or(Profile::Rfc8628, |p| p.profile(self.resource.as_deref()));
        let mut builder = Config::builder(self.client_id.clone())
            .profile(profile)
            .token_endpoint(self.token_endpoint.clone())
            .scopes(&self.scopes)
            .client_auth(auth);
        if let Some(device) = &self.device_endpoint {
            builder = builder.device_endpoint(device.clone());
        }
        for (name, value) in params {
            builder = builder.param(name.clone(), value.clone());
        }
        if self.allow_insecure_http {
            builder = builder.allow_insecure_http();
        }
        if let Some(signer) = dpop {
            builder = builder.dpop(signer);
        }
        builder.build().map_err(|e| {
            let hint = if matches!(e, device_grant::ConfigError::InsecureEndpoint { .. }) {
                "; plain http is refused except on loopback: use https, or --allow-insecure-http for a lab server"
            } else {
                ""
            };
            CliError::usage(format!("{e}{hint}"))
        })
    }
}

/// The tenant, region or instance the preset's endpoints are built for, checked against
/// the preset: a region it does not know would silently fall back to its default one.
pub fn resolve_location(server: &ServerArgs) -> Result<Option<String>, CliError> {
    let preset = server.provider.map(Provider::preset);
    let registers = preset.is_some_and(|p| p.requires.registration);
    if (server.start_url.is_some() || server.registration_endpoint.is_some()) && !registers {
        return Err(CliError::usage(
            "--start-url and --registration-endpoint apply to --provider aws-sso and aws-builder-id only",
        ));
    }
    if server.tenant.is_some() && !server.provider.is_some_and(Provider::has_tenant) {
        return Err(CliError::usage(
            "--tenant applies to --provider microsoft and --provider azure-ad-v1 only",
        ));
    }
    if let Some(region) = &server.region {
        let Some(p) = preset.filter(|p| p.has_region()) else {
            return Err(CliError::usage(
                "--region applies to --provider aws-sso, aws-builder-id and zoho only",
            ));
        };
        if !p.knows_region(region) {
            return Err(CliError::usage(match p.endpoints {
                device_grant::Endpoints::Hosts { hosts, .. } => format!(
                    "{} has no data centre {:?}; choose one of {}",
                    p.name,
                    region,
                    hosts.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
                _ => format!(
                    "{region:?} is not a region name (lower-case letters, digits and hyphens, such as eu-west-1)"
                ),
            }));
        }
        return Ok(Some(region.clone()));
    }
    if let Some(instance) = &server.instance {
        if !preset.is_some_and(device_grant::Preset::has_instance) {
            return Err(CliError::usage(
                "--instance applies to --provider salesforce only",
            ));
        }
        let url = url::Url::parse(instance).ok().filter(|u| {
            u.host_str().is_some()
                && matches!(u.path(), "" | "/")
                && u.query().is_none()
                && u.fragment().is_none()
                && matches!(u.scheme(), "https" | "http")
        });
        let Some(url) = url else {
            return Err(CliError::usage(format!(
                "--instance {instance:?} is not an instance URL such as https://acme.my.salesforce.com"
            )));
        };
        return Ok(Some(url.as_str().trim_end_matches('/').to_owned()));
    }
    Ok(server.tenant.clone())
}

fn resolve_resource(
    provider: Option<Provider>,
    resource: Option<&str>,
) -> Result<Option<String>, CliError> {
    let needs_resource = provider.is_some_and(|p| p.preset().requires.resource);
    match (needs_resource, resource) {
        (true, Some(r)) if !r.trim().is_empty() => Ok(Some(r.trim().to_owned())),
        (true, _) => Err(CliError::usage(
            "Azure AD v1 needs --resource, the API the token is for, for example --resource https://management.core.windows.net/",
        )),
        (false, Some(_)) => Err(CliError::usage(
            "--resource applies to --provider azure-ad-v1 only; for other servers use --param resource=URI",
        )),
        (false, None) => Ok(None),
    }
}

fn resolve_auth_method(
    provider: Option<Provider>,
    method: Option<AuthMethod>,
    has_secret: bool,
) -> Result<AuthMethod, CliError> {
    let preset = provider.map(Provider::preset);
    let secret_in_form = preset.is_some_and(|p| p.default_auth == DefaultAuth::SecretInForm);
    let needs_secret = preset.is_some_and(|p| p.requires.client_secret);
    match (method, has_secret) {
        (Some(AuthMethod::None), true) => Err(CliError::usage(
            "a client secret was given with --auth-method none; drop the secret or choose basic or post",
        )),
        (Some(m @ (AuthMethod::Basic | AuthMethod::Post)), false) => Err(CliError::usage(format!(
            "--auth-method {} needs the client secret: set DEVICE_GRANT_CLIENT_SECRET (or pass --client-secret)",
            if m == AuthMethod::Basic {
                "basic"
            } else {
                "post"
            }
        ))),
        (Some(m), _) => Ok(m),
        (None, true) if secret_in_form => Ok(AuthMethod::Post),
        (None, true) => Ok(AuthMethod::Basic),
        (None, false) if needs_secret => Err(CliError::usage(
            "Google needs the client secret of a \"TVs and Limited Input devices\" client: set DEVICE_GRANT_CLIENT_SECRET",
        )),
        (None, false) => Ok(AuthMethod::None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Failure;

    fn client(id: &str) -> ClientArgs {
        ClientArgs {
            client_id: Some(id.into()),
            ..ClientArgs::default()
        }
    }

    fn resolve(server: ServerArgs, client: ClientArgs) -> Result<ClientSettings, CliError> {
        ClientSettings::resolve(&server, &client, Needs::DeviceFlow, &Http::new())
    }

    #[test]
    fn explicit_endpoints_replace_the_preset_but_keep_the_dialect() {
        let s = resolve(
            ServerArgs {
                provider: Some(Provider::Github),
                device_endpoint: Some("https://ghe.example/login/device/code".into()),
                token_endpoint: Some("https://ghe.example/login/oauth/access_token".into()),
                ..ServerArgs::default()
            },
            client("id"),
        )
        .unwrap();
        assert_eq!(s.provider, Some(Provider::Github));
        assert_eq!(
            s.device_endpoint.as_deref(),
            Some("https://ghe.example/login/device/code")
        );
        let config = s.config(None, &[]).unwrap();
        assert_eq!(config.profile(), &Profile::GitHub);
        assert_eq!(config.token_endpoint().host_str(), Some("ghe.example"));
    }

    #[test]
    fn one_explicit_endpoint_replaces_only_that_one() {
        let s = resolve(
            ServerArgs {
                provider: Some(Provider::Microsoft),
                tenant: Some("contoso.example".into()),
                token_endpoint: Some("https://proxy.example/token".into()),
                ..ServerArgs::default()
            },
            ClientArgs {
                scopes: vec!["openid offline_access".into()],
                ..client("id")
            },
        )
        .unwrap();
        assert!(
            s.device_endpoint
                .as_deref()
                .unwrap()
                .contains("/contoso.example/oauth2/v2.0/devicecode")
        );
        assert_eq!(s.token_endpoint, "https://proxy.example/token");
        assert_eq!(s.scopes, ["openid", "offline_access"]);
    }

    #[test]
    fn usage_errors() {
        let cases: Vec<(ServerArgs, ClientArgs)> = vec![
            // No client id.
            (
                ServerArgs {
                    provider: Some(Provider::Github),
                    ..ServerArgs::default()
                },
                ClientArgs::default(),
            ),
            // No endpoints at all.
            (ServerArgs::default(), client("id")),
            // A token endpoint but no device endpoint.
            (
                ServerArgs {
                    token_endpoint: Some("https://a.example/t".into()),
                    ..ServerArgs::default()
                },
                client("id"),
            ),
            // A tenant for GitHub.
            (
                ServerArgs {
                    provider: Some(Provider::Github),
                    tenant: Some("x".into()),
                    ..ServerArgs::default()
                },
                client("id"),
            ),
            // Azure AD v1 without a resource.
            (
                ServerArgs {
                    provider: Some(Provider::AzureAdV1),
                    ..ServerArgs::default()
                },
                client("id"),
            ),
            // Google without its secret.
            (
                ServerArgs {
                    provider: Some(Provider::Google),
                    ..ServerArgs::default()
                },
                client("id"),
            ),
            // Microsoft without a scope.
            (
                ServerArgs {
                    provider: Some(Provider::Microsoft),
                    ..ServerArgs::default()
                },
                client("id"),
            ),
            // basic without a secret.
            (
                ServerArgs {
                    provider: Some(Provider::Github),
                    ..ServerArgs::default()
                },
                ClientArgs {
                    auth_method: Some(AuthMethod::Basic),
                    ..client("id")
                },
            ),
        ];
        for (i, (server, client)) in cases.into_iter().enumerate() {
            let e = resolve(server, client).err();
            assert_eq!(e.map(|e| e.failure()), Some(Failure::Usage), "case {i}");
        }
    }

    #[test]
    fn regions_and_instances_choose_the_preset_endpoints() {
        let zoho = |region: &str| ServerArgs {
            provider: Some(Provider::Zoho),
            region: Some(region.into()),
            ..ServerArgs::default()
        };
        let scoped = ClientArgs {
            scopes: vec!["ZohoCRM.modules.ALL".into()],
            secret: crate::args::SecretArgs {
                client_secret: Some("s".into()),
            },
            ..client("id")
        };
        let s = resolve(zoho("eu"), scoped.clone()).unwrap();
        assert_eq!(
            s.device_endpoint.as_deref(),
            Some("https://accounts.zoho.eu/oauth/v3/device/code")
        );
        assert_eq!(
            s.token_endpoint,
            "https://accounts.zoho.eu/oauth/v3/device/token"
        );
        let e = resolve(zoho("mars"), scoped.clone()).unwrap_err();
        assert_eq!(e.failure(), Failure::Usage);
        assert!(e.to_string().contains("us, eu, in"), "{e}");

        let salesforce = |instance: &str| ServerArgs {
            provider: Some(Provider::Salesforce),
            instance: Some(instance.into()),
            ..ServerArgs::default()
        };
        let s = resolve(salesforce("https://acme.my.salesforce.com/"), client("id")).unwrap();
        assert_eq!(
            s.device_endpoint.as_deref(),
            Some("https://acme.my.salesforce.com/services/oauth2/token")
        );
        assert_eq!(
            s.token_endpoint,
            "https://acme.my.salesforce.com/services/oauth2/token"
        );
        for bad in [
            "acme",
            "https://acme.my.salesforce.com/x",
            "ftp://a.example",
        ] {
            let e = resolve(salesforce(bad), client("id")).unwrap_err();
            assert_eq!(e.failure(), Failure::Usage, "{bad}");
        }

        let s = resolve(
            ServerArgs {
                provider: Some(Provider::AwsSso),
                region: Some("ap-southeast-2".into()),
                ..ServerArgs::default()
            },
            client("id"),
        )
        .unwrap();
        assert_eq!(
            s.token_endpoint,
            "https://oidc.ap-southeast-2.amazonaws.com/token"
        );
        // Options that do not fit the provider.
        for server in [
            ServerArgs {
                provider: Some(Provider::Github),
                region: Some("eu".into()),
                ..ServerArgs::default()
            },
            ServerArgs {
                provider: Some(Provider::Zoho),
                instance: Some("https://a.example".into()),
                ..ServerArgs::default()
            },
            ServerArgs {
                provider: Some(Provider::Github),
                start_url: Some("https://a.example/start".into()),
                ..ServerArgs::default()
            },
        ] {
            let e = resolve(server, scoped.clone()).unwrap_err();
            assert_eq!(e.failure(), Failure::Usage);
        }
    }

    #[test]
    fn secrets_choose_a_method() {
        assert_eq!(
            resolve_auth_method(Some(Provider::Google), None, true).unwrap(),
            AuthMethod::Post
        );
        assert_eq!(
            resolve_auth_method(None, None, true).unwrap(),
            AuthMethod::Basic
        );
        assert_eq!(
            resolve_auth_method(None, None, false).unwrap(),
            AuthMethod::None
        );
        assert!(resolve_auth_method(None, Some(AuthMethod::None), true).is_err());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let server = ServerArgs {
            device_endpoint: Some("http://lab.example/device".into()),
            token_endpoint: Some("http://lab.example/token".into()),
            ..ServerArgs::default()
        };
        let s = resolve(server.clone(), client("id")).unwrap();
        let e = s.config(None, &[]).unwrap_err();
        assert_eq!(e.failure(), Failure::Usage);
        assert!(e.to_string().contains("--allow-insecure-http"), "{e}");
        let s = resolve(
            ServerArgs {
                allow_insecure_http: true,
                ..server
            },
            client("id"),
        )
        .unwrap();
        assert!(s.config(None, &[]).is_ok());
        let local = ServerArgs {
            device_endpoint: Some("http://127.0.0.1:9/device".into()),
            token_endpoint: Some("http://localhost:9/token".into()),
            ..ServerArgs::default()
        };
        assert!(
            resolve(local, client("id"))
                .unwrap()
                .config(None, &[])
                .is_ok()
        );
    }

    #[test]
    fn settings_round_trip_without_secrets() {
        let s = resolve(
            ServerArgs {
                provider: Some(Provider::AzureAdV1),
                ..ServerArgs::default()
            },
            ClientArgs {
                resource: Some("https://management.core.windows.net/".into()),
                ..client("id")
            },
        )
        .unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains(r#""provider":"azure-ad-v1""#), "{json}");
        assert!(json.contains(r#""auth_method":"none""#), "{json}");
        let back: ClientSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
        assert_eq!(
            back.config(None, &[]).unwrap().profile(),
            &Profile::AzureAdV1 {
                resource: "https://management.core.windows.net/".into()
            }
        );
    }
}
